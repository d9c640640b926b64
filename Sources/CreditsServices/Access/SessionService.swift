import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation

/// Staff sign-in for the portal: email and password (bcrypt) open a session whose random token
/// lives only in an HttpOnly cookie; each session has its own CSRF token for forms.
public struct SessionService: Sendable {
    let sessions: WebSessionStore
    let organizations: OrganizationStore
    let principals: PrincipalResolver
    let signInGuard: SignInGuard
    let now: @Sendable () -> Date

    public init(
        sessions: WebSessionStore,
        organizations: OrganizationStore,
        principals: PrincipalResolver,
        signInGuard: SignInGuard,
        now: @escaping @Sendable () -> Date
    ) {
        self.sessions = sessions
        self.organizations = organizations
        self.principals = principals
        self.signInGuard = signInGuard
        self.now = now
    }

    /// How long a session lasts after sign-in.
    public static let lifetime: TimeInterval = 12 * 3600
    /// The session cookie's name.
    public static let cookieName = "tc_session"

    /// What a correct email and password lead to.
    public enum SignIn: Sendable {
        /// A new session: the token goes into the cookie, the browser's token into its own.
        case signedIn(token: String, session: WebSessionRecord, browserToken: String)
        /// The email and password fit staff of several organisations: the person picks one.
        case chooseOrganization([Organization], browserToken: String)
    }

    /// Checks an email and password (and, when the email is used by several organisations, which
    /// one) and opens a session. Wrong details are one error, whichever part was wrong.
    /// - Parameters:
    ///   - address: where the try comes from (the client's IP address), for the sign-in guard.
    ///   - browserToken: the token a browser was given at an earlier sign-in, if it sent one.
    public func signIn(
        email: String,
        password: String,
        organization: String?,
        address: String,
        browserToken: String?
    ) async throws -> SignIn {
        let email = email.trimmingCharacters(in: .whitespaces).lowercased()
        let ticket = try await signInGuard.admit(email: email, address: address, browserToken: browserToken, at: now())
        let candidates = try await organizations.staffMembers(withEmail: email)
        var matching: [StaffMember] = []
        for staff in candidates where try await Passwords.verify(password, hash: staff.passwordHash) {
            matching.append(staff)
        }
        // Unknown emails cost a bcrypt check too, so the answer's timing does not tell them apart.
        if candidates.isEmpty { _ = try await Passwords.verify(password, hash: Passwords.decoyHash) }
        if let organization { matching = matching.filter { $0.organizationID.rawValue == organization } }
        guard let first = matching.first else { throw SignInError.failed }
        let browser = try await signInGuard.succeeded(ticket, browserToken: browserToken, at: now())
        if matching.count > 1 {
            var found: [Organization] = []
            for staff in matching {
                if let organization = try await organizations.organization(staff.organizationID) {
                    found.append(organization)
                }
            }
            return .chooseOrganization(found, browserToken: browser)
        }
        let (token, session) = try await open(for: first)
        return .signedIn(token: token, session: session, browserToken: browser)
    }

    /// Opens a session for a staff member whose identity is already settled (a correct password,
    /// or the owner an organisation sign-up just created); returns the cookie's token.
    public func open(for staff: StaffMember) async throws -> (token: String, session: WebSessionRecord) {
        let token = APIKeys.randomText(bytes: 32)
        let instant = now()
        let session = WebSessionRecord(
            tokenHash: APIKeys.hash(token),
            organizationID: staff.organizationID,
            staffID: staff.id,
            csrfToken: APIKeys.randomText(bytes: 32),
            createdAt: instant,
            expiresAt: instant.addingTimeInterval(SessionService.lifetime)
        )
        try await sessions.create(session)
        return (token, session)
    }

    /// True the first time it is asked for a session: the credits pop-up is shown then, and not
    /// again until the next sign-in.
    public func claimCreditAlert(_ session: WebSessionRecord) async throws -> Bool {
        try await sessions.claimCreditAlert(session.tokenHash, at: now())
    }

    /// The signed-in staff member and session for a cookie's token; nil when the session is
    /// unknown, expired, or its staff member was deleted.
    /// Cached for a few seconds like API keys, so a page's scripts (the estimate ticker) do not read
    /// the database on every keystroke; changes to staff or settings clear the cache at once.
    public func resolve(_ token: String) async throws -> (Principal, WebSessionRecord)? {
        guard token.count == 64 else { return nil }
        let tokenHash = APIKeys.hash(token)
        return try await principals.session(tokenHash) {
            guard let session = try await sessions.session(tokenHash, at: now()),
                let staff = try await organizations.staffMember(session.staffID, of: session.organizationID),
                let organization = try await organizations.organization(session.organizationID)
            else { return nil }
            return (
                Principal(
                    organization: organization,
                    staff: staff,
                    actor: Actor(kind: .staff, id: staff.id, name: staff.name)
                ), session
            )
        }
    }

    /// Ends the session of a cookie's token.
    public func signOut(_ token: String) async throws {
        let tokenHash = APIKeys.hash(token)
        try await sessions.delete(tokenHash)
        principals.forgetSession(tokenHash)
    }

    /// Forgets sign-in tallies and remembered browsers nobody needs any more (a background job).
    @discardableResult
    public func forgetStaleSignIns() async throws -> Int {
        try await signInGuard.forgetStale(at: now())
    }

    /// Forgets sessions that have expired; returns how many (a background job).
    @discardableResult
    public func deleteExpired() async throws -> Int {
        try await sessions.deleteExpired(before: now())
    }
}
