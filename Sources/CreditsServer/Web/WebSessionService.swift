import CreditsCore
import CreditsStore
import Foundation
import HummingbirdBcrypt
import NIOPosix

/// Staff sign-in for the portal: email and password (bcrypt) open a session whose random token
/// lives only in an HttpOnly cookie; each session has its own CSRF token for forms.
public struct WebSessionService: Sendable {
    let services: AppServices
    var store: WebSessionStore { WebSessionStore(database: services.database) }

    /// How long a session lasts after sign-in.
    public static let lifetime: TimeInterval = 12 * 3600
    /// The session cookie's name.
    public static let cookieName = "tc_session"

    /// What a correct email and password lead to.
    public enum SignIn: Sendable {
        /// A new session: the token goes into the cookie.
        case signedIn(token: String, session: WebSessionRecord)
        /// The email and password fit staff of several organisations: the person picks one.
        case chooseOrganization([Organization])
    }

    /// Checks an email and password (and, when the email is used by several organisations, which
    /// one) and opens a session. Wrong details are one error, whichever part was wrong.
    public func signIn(email: String, password: String, organization: String?) async throws -> SignIn {
        let email = email.trimmingCharacters(in: .whitespaces).lowercased()
        guard services.signInThrottle.allows(email, at: services.now()) else {
            throw APIError(.tooManyRequests, "sign_in_throttled",
                           "Too many wrong passwords for this email. Wait 15 minutes, or ask an administrator to set a new password.")
        }
        let candidates = try await services.organizations.staffMembers(withEmail: email)
        var matching: [StaffMember] = []
        for staff in candidates where try await WebSessionService.verify(password, hash: staff.passwordHash) { matching.append(staff) }
        // Unknown emails cost a bcrypt check too, so the answer's timing does not tell them apart.
        if candidates.isEmpty { _ = try await WebSessionService.verify(password, hash: WebSessionService.decoyHash) }
        if let organization { matching = matching.filter { $0.organizationID.rawValue == organization } }
        guard let first = matching.first else {
            services.signInThrottle.failed(email, at: services.now())
            throw APIError(.unauthorized, "sign_in_failed", "The email or password is not right.")
        }
        services.signInThrottle.succeeded(email)
        if matching.count > 1 {
            var organizations: [Organization] = []
            for staff in matching { if let found = try await services.organizations.organization(staff.organizationID) { organizations.append(found) } }
            return .chooseOrganization(organizations)
        }
        let token = APIKeys.randomText(bytes: 32)
        let now = services.now()
        let session = WebSessionRecord(tokenHash: APIKeys.hash(token), organizationID: first.organizationID, staffID: first.id,
                                       csrfToken: APIKeys.randomText(bytes: 32), createdAt: now, expiresAt: now.addingTimeInterval(WebSessionService.lifetime))
        try await store.create(session)
        return .signedIn(token: token, session: session)
    }

    /// The signed-in staff member and session for a cookie's token; nil when the session is
    /// unknown, expired, or its staff member was deleted.
    /// Cached for a few seconds like API keys, so a page's scripts (the estimate ticker) do not read
    /// the database on every keystroke; changes to staff or settings clear the cache at once.
    public func resolve(_ token: String) async throws -> (Principal, WebSessionRecord)? {
        guard token.count == 64 else { return nil }
        let tokenHash = APIKeys.hash(token)
        return try await services.principals.session(tokenHash) {
            guard let session = try await store.session(tokenHash, at: services.now()),
                  let staff = try await services.organizations.staffMember(session.staffID, of: session.organizationID),
                  let organization = try await services.organizations.organization(session.organizationID) else { return nil }
            return (Principal(organization: organization, staff: staff, actor: Actor(kind: .staff, id: staff.id, name: staff.name)), session)
        }
    }

    /// Ends the session of a cookie's token.
    public func signOut(_ token: String) async throws {
        let tokenHash = APIKeys.hash(token)
        try await store.delete(tokenHash)
        services.principals.forgetSession(tokenHash)
    }

    /// A bcrypt check off the event loops (a check takes tens of milliseconds by design).
    static func verify(_ password: String, hash: String?) async throws -> Bool {
        guard let hash, !password.isEmpty, password.utf8.count <= 72 else { return false }
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// A hash no password is checked against for real.
    static let decoyHash = Bcrypt.hash("decoy password for unknown emails", cost: 10)
}
