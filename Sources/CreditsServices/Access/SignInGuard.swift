import CreditsCore
import CreditsStore
import Foundation

/// Slows password guessing without locking the real person out (see `SignInBackoff`): every try
/// counts against its email from its address, its address, and its email — the last one skipped
/// for a browser that has signed in with that email before. Tallies live in the database, so
/// several servers share them, and each try is counted before its password is checked.
public struct SignInGuard: Sendable {
    let store: SignInStore

    public init(store: SignInStore) { self.store = store }

    /// How long a browser is remembered after signing in.
    public static let browserMemory: TimeInterval = 180 * 24 * 3600

    /// A try that was let through; `succeeded` takes it back when the password was right.
    public struct Ticket: Sendable {
        let pair: SignInKey
        let address: SignInKey
        let email: SignInKey?
        let emailHash: String
    }

    /// Counts a try of `email` from `address`, or says how long to wait.
    /// - Parameter browserToken: the browser's remembered token, if it sent one.
    public func admit(email: String, address: String, browserToken: String?, at instant: Date) async throws
        -> Ticket
    {
        let emailHash = APIKeys.hash("email:" + email)
        let pair = SignInKey(hash: APIKeys.hash("pair:" + email + "|" + address), backoff: .emailFromAddress)
        let addressKey = SignInKey(hash: APIKeys.hash("address:" + address), backoff: .address)
        var known = false
        if let browserToken, browserToken.count == 64 {
            known = try await store.isKnownBrowser(
                tokenHash: APIKeys.hash(browserToken),
                emailHash: emailHash,
                at: instant
            )
        }
        let emailKey = known ? nil : SignInKey(hash: emailHash, backoff: .email)
        let keys = [pair, addressKey] + (emailKey.map { [$0] } ?? [])
        if let until = try await store.countTry(keys, at: instant) {
            throw SignInError.throttled(retryAfter: max(Int(until.timeIntervalSince(instant).rounded(.up)), 1))
        }
        return Ticket(pair: pair, address: addressKey, email: emailKey, emailHash: emailHash)
    }

    /// The password was right: the try is taken back, this email's tries from this address are
    /// forgotten, and the browser is remembered for the email. Returns the browser's token (its
    /// own, or a new one).
    public func succeeded(_ ticket: Ticket, browserToken: String?, at instant: Date) async throws -> String {
        try await store.succeeded(
            clear: [ticket.pair.hash],
            forgive: [ticket.address] + (ticket.email.map { [$0] } ?? [])
        )
        let token = browserToken.flatMap { $0.count == 64 ? $0 : nil } ?? APIKeys.randomText(bytes: 32)
        try await store.rememberBrowser(
            tokenHash: APIKeys.hash(token),
            emailHash: ticket.emailHash,
            until: instant.addingTimeInterval(SignInGuard.browserMemory)
        )
        return token
    }

    /// Forgets tallies quiet for a day and browsers past their memory (a background job).
    @discardableResult
    public func forgetStale(at instant: Date) async throws -> Int {
        let quiet = [SignInBackoff.emailFromAddress, .address, .email].map(\.forgetAfter).max() ?? 0
        return try await store.forget(talliesBefore: instant.addingTimeInterval(-quiet), browsersExpiredAt: instant)
    }
}
