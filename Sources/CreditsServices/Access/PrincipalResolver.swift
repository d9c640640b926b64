import CreditsCore
import CreditsStore
import Foundation
import Synchronization

/// Turns API keys (and portal sessions) into principals, with a short-lived cache.
public final class PrincipalResolver: Sendable {
    let organizations: OrganizationStore
    let now: @Sendable () -> Date
    /// How long a resolved key is trusted without reading the database again.
    public static let cacheSeconds: TimeInterval = 5
    private let cache = Mutex<[String: (principal: Principal, secret: String, until: Date)]>([:])

    public init(organizations: OrganizationStore, now: @escaping @Sendable () -> Date) {
        self.organizations = organizations
        self.now = now
    }

    /// The principal for a presented key, or nil when the key is unknown, revoked or wrong.
    public func principal(forKey key: String) async throws -> Principal? {
        guard let (id, secret) = APIKeys.parse(key) else { return nil }
        let instant = now()
        if let cached = cache.withLock({ $0[id] }), cached.until > instant,
            APIKeys.constantTimeEqual(cached.secret, secret)
        {
            return cached.principal
        }
        guard let record = try await organizations.key(id), record.revokedAt == nil,
            APIKeys.matches(secret, hash: record.secretHash),
            let staff = try await organizations.staffMember(record.staffID, of: record.organizationID),
            let organization = try await organizations.organization(record.organizationID)
        else { return nil }
        let principal = Principal(
            organization: organization,
            staff: staff,
            actor: Actor(kind: .apiKey, id: record.id, name: "API key \(record.name) (\(staff.name))")
        )
        cache.withLock { entries in
            if entries.count > 10_000 { entries.removeAll() }
            entries[id] = (principal, secret, instant.addingTimeInterval(PrincipalResolver.cacheSeconds))
        }
        return principal
    }

    /// Forgets cached principals after a change to keys, staff or settings.
    public func invalidate() {
        cache.withLock { $0.removeAll() }
        sessions.withLock { $0.removeAll() }
    }

    /// Portal sessions resolved in the last few seconds, by token hash (the same cache rule as keys).
    private let sessions = Mutex<[String: (principal: Principal, session: WebSessionRecord, until: Date)]>([:])

    /// The principal and session for a portal session token hash, from the cache or `load`.
    public func session(_ tokenHash: String, load: () async throws -> (Principal, WebSessionRecord)?) async throws -> (
        Principal, WebSessionRecord
    )? {
        let instant = now()
        if let cached = sessions.withLock({ $0[tokenHash] }), cached.until > instant, cached.session.expiresAt > instant
        {
            return (cached.principal, cached.session)
        }
        guard let (principal, session) = try await load() else { return nil }
        sessions.withLock { entries in
            if entries.count > 10_000 { entries.removeAll() }
            entries[tokenHash] = (principal, session, instant.addingTimeInterval(PrincipalResolver.cacheSeconds))
        }
        return (principal, session)
    }

    /// Forgets one portal session at once (sign-out).
    public func forgetSession(_ tokenHash: String) { _ = sessions.withLock { $0.removeValue(forKey: tokenHash) } }
}
