import CreditsCore
import CreditsStore
import Foundation

/// Who is making a request, once authenticated: their organisation, the staff member (an API
/// key acts as the staff member it belongs to), and what they may do.
public struct Principal: Sendable {
    public var organization: Organization
    public var staff: StaffMember
    /// The audit-log actor: the staff member, or "API key NAME" for a key.
    public var actor: Actor

    public init(organization: Organization, staff: StaffMember, actor: Actor) {
        self.organization = organization
        self.staff = staff
        self.actor = actor
    }

    /// True when the staff member may do this.
    public func can(_ permission: Permission) -> Bool { staff.permissions.contains(permission) }

    /// Refuses unless the staff member may do this.
    public func require(_ permission: Permission) throws(AccessError) {
        guard can(permission) else { throw AccessError(permission) }
    }

    /// Refuses unless the staff member has at least one of the permissions (the first is named).
    public func requireAny(_ permissions: Permission...) throws(AccessError) {
        guard let first = permissions.first, !permissions.contains(where: can) else { return }
        throw AccessError(first)
    }

    public var organizationID: OrganizationID { organization.id }
}

extension Principal {
    /// An audit entry about the organisation itself, by this principal.
    public func organizationAudit(_ action: AuditAction, _ message: String, at instant: Date) -> AuditRecord {
        AuditRecord(
            organization: organizationID,
            actor: actor,
            action: action,
            message: AuditText(message),
            subjectType: "organization",
            subjectID: organizationID.rawValue,
            at: instant
        )
    }
}
