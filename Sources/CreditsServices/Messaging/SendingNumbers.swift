import CreditsCore
import CreditsStore
import Foundation

/// The numbers an organisation sends from. With the Simulator every organisation has a test
/// number at once, so a fresh server can send without registering anything.
public struct SendingNumbers: Sendable {
    let store: NumberStore
    /// True when the provider hands out test numbers (the Simulator).
    let givesTestNumbers: Bool
    let now: @Sendable () -> Date

    public init(store: NumberStore, givesTestNumbers: Bool, now: @escaping @Sendable () -> Date) {
        self.store = store
        self.givesTestNumbers = givesTestNumbers
        self.now = now
    }

    /// The number the organisation sends from (its first, the test number last).
    public func sendingNumber(_ organization: OrganizationID) async throws -> String {
        if let number = try await store.numbers(of: organization).first?.number { return number }
        if givesTestNumbers { return try await store.ensureTestNumber(for: organization, at: now()) }
        throw SendError.noSendingNumber
    }

    /// The number a send goes from: the one asked for (one of the organisation's numbers in use),
    /// else the default — the first number, local before toll-free.
    public func sender(_ organization: OrganizationID, requested: String?, country: Country) async throws
        -> AssignedNumber
    {
        let numbers = try await numbers(of: organization)
        guard let requested else {
            if let first = numbers.first { return first }
            throw SendError.noSendingNumber
        }
        let wanted = (try? PhoneNumber(parsing: requested, defaultCountry: country).e164) ?? requested
        guard let number = numbers.first(where: { $0.number == wanted }) else {
            throw SendError.unknownSendingNumber(requested)
        }
        return number
    }

    /// The organisation's numbers, with the test number made first where the provider gives one.
    public func numbers(of organization: OrganizationID) async throws -> [AssignedNumber] {
        let numbers = try await store.numbers(of: organization)
        guard numbers.isEmpty, givesTestNumbers else { return numbers }
        _ = try await store.ensureTestNumber(for: organization, at: now())
        return try await store.numbers(of: organization)
    }
}
