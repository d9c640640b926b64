import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation

/// "Forgot your password?": a one-time link by email, working for an hour. Asking never says
/// whether an account uses the address; each person gets at most three links an hour. Using a
/// link sets the new password, signs the person out everywhere and spends every other link.
public struct PasswordResetService: Sendable {
    let store: PasswordResetStore
    let organizations: OrganizationStore
    /// Its cache of signed-in sessions is cleared when a reset ends someone's sessions.
    let principals: PrincipalResolver
    let newMailStatus: MailStatus
    let now: @Sendable () -> Date

    /// How long a link works.
    public static let lifetime: TimeInterval = 3600
    /// Links one person may ask for in an hour.
    public static let perHour = 3

    public init(
        store: PasswordResetStore,
        organizations: OrganizationStore,
        principals: PrincipalResolver,
        newMailStatus: MailStatus,
        now: @escaping @Sendable () -> Date
    ) {
        self.store = store
        self.organizations = organizations
        self.principals = principals
        self.newMailStatus = newMailStatus
        self.now = now
    }

    /// Mails a link to every account that signs in with `email` (one per organisation). Returns
    /// how many were mailed, for logs and tests only: the person asking is told the same either way.
    @discardableResult
    public func request(email: String, linkBase: String) async throws -> Int {
        let address = email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard address.contains("@"), address.unicodeScalars.count <= 254 else { return 0 }
        var mailed = 0
        // Someone added without a password uses only API keys: a link would open the portal to
        // whoever reads that mailbox, so they get none (an admin can set a password for them).
        for staff in try await organizations.staffMembers(withEmail: address) where staff.passwordHash != nil {
            guard let organization = try await organizations.organization(staff.organizationID) else { continue }
            let token = APIKeys.randomText(bytes: 32)
            let instant = now()
            let link = "\(linkBase)/password-reset/\(token)"
            let mail = Mail(
                id: Identifier.make("mail_"),
                organizationID: organization.id,
                kind: .passwordReset,
                to: staff.email,
                subject: "Choose a new TextCredits password for \(organization.name)",
                body: """
                    Hello \(staff.name),

                    Someone (we hope you) asked to choose a new password for signing in to \(organization.name) on TextCredits. \
                    Open this link within an hour to choose it; it works once:

                    \(link)

                    If you did not ask, ignore this mail: your password stays as it is.
                    """,
                status: newMailStatus,
                createdAt: instant
            )
            if try await store.create(
                tokenHash: APIKeys.hash(token),
                staff: staff,
                at: instant,
                expiresAt: instant.addingTimeInterval(PasswordResetService.lifetime),
                mail: mail,
                limit: PasswordResetService.perHour,
                since: instant.addingTimeInterval(-3600)
            ) {
                mailed += 1
            }
        }
        return mailed
    }

    /// True while the link can still be used.
    public func isUsable(_ token: String) async throws -> Bool {
        try await store.holder(APIKeys.hash(token), at: now()) != nil
    }

    /// Sets the new password through the link. Refuses a weak password (the link stays usable)
    /// and a used or expired link.
    public func reset(token: String, password: String) async throws -> StaffMember {
        let hash = Passwords.hash(try InputRules.password(password))
        let instant = now()
        let redeemed = try await store.redeem(APIKeys.hash(token), passwordHash: hash, at: instant) { staff in
            AuditRecord(
                organization: staff.organizationID,
                actor: Actor(kind: .staff, id: staff.id, name: staff.name),
                action: .passwordReset,
                message: "\(staff.name) chose a new password with an emailed link; their sessions were ended.",
                subjectType: "staff",
                subjectID: staff.id,
                at: instant
            )
        }
        guard let redeemed else { throw PasswordResetError.linkUnusable }
        principals.invalidate()
        return redeemed
    }
}

/// Why a reset link was refused.
public enum PasswordResetError: DomainError, Equatable {
    case linkUnusable

    public var kind: RefusalKind { .notFound }
    public var code: String { "reset_link_unusable" }
    public var message: String {
        "This link has expired or was already used. Ask for a new one from the sign-in page."
    }
}
