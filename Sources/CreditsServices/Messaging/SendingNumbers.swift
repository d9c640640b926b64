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
        if let number = try await numbers(of: organization).first(where: \.maySend)?.number { return number }
        throw SendError.noSendingNumber
    }

    /// The number someone's send goes from: the one asked for (one of the organisation's numbers
    /// in use, one they may use, and — if toll-free — verified), else their default: the first
    /// of their numbers that may send, local before toll-free.
    public func sender(_ principal: Principal, requested: String?) async throws -> AssignedNumber {
        let all = try await numbers(of: principal.organizationID)
        let mine = allowed(all, for: principal.staff)
        guard let requested else {
            if let first = mine.first(where: \.maySend) { return first }
            if all.isEmpty { throw SendError.noSendingNumber }
            if let unverified = mine.first { throw SendError.tollFreeNotVerified(unverified) }
            throw SendError.numberNotAllowed(nil)
        }
        let country = principal.organization.country
        let wanted = (try? PhoneNumber(parsing: requested, defaultCountry: country).e164) ?? requested
        guard all.contains(where: { $0.number == wanted }) else { throw SendError.unknownSendingNumber(requested) }
        guard let number = mine.first(where: { $0.number == wanted }) else {
            throw SendError.numberNotAllowed(requested)
        }
        guard number.maySend else { throw SendError.tollFreeNotVerified(number) }
        return number
    }

    /// The numbers among `numbers` a staff member may send from and see conversations of (all of
    /// them unless they are limited to some).
    public func allowed(_ numbers: [AssignedNumber], for staff: StaffMember) -> [AssignedNumber] {
        staff.numbers.isEmpty ? numbers : numbers.filter { staff.numbers.contains($0.number) }
    }

    /// The organisation's numbers a staff member may use, the default first.
    public func numbers(for principal: Principal) async throws -> [AssignedNumber] {
        allowed(try await numbers(of: principal.organizationID), for: principal.staff)
    }

    /// The organisation's numbers, with the test number made first where the provider gives one
    /// and the organisation has no number that may send (none yet, or only toll-free ones
    /// waiting for their verification).
    public func numbers(of organization: OrganizationID) async throws -> [AssignedNumber] {
        let numbers = try await store.numbers(of: organization)
        guard givesTestNumbers, !numbers.contains(where: \.maySend) else { return numbers }
        _ = try await store.ensureTestNumber(for: organization, at: now())
        return try await store.numbers(of: organization)
    }
}
