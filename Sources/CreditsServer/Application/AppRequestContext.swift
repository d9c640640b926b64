import CreditsCore
import CreditsStore
import Hummingbird

/// Who is making a request, once authenticated: their organisation, the staff member (an API
/// key acts as the staff member it belongs to), and what they may do.
public struct Principal: Sendable {
    public var organization: Organization
    public var staff: StaffMember
    /// The audit-log actor: the staff member, or "API key NAME" for a key.
    public var actor: Actor

    /// True when the staff member may do this.
    public func can(_ permission: Permission) -> Bool { staff.permissions.contains(permission) }

    /// Throws 403 unless the staff member may do this.
    public func require(_ permission: Permission) throws {
        guard can(permission) else { throw APIError.forbidden(permission) }
    }

    public var organizationID: OrganizationID { organization.id }
}

/// The request context of every route: Hummingbird's core plus the authenticated principal.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by the authentication middleware on `/v1` routes.
    public var principal: Principal?
    /// Set by the web session middleware on portal pages.
    public var webSession: WebSessionRecord?
    /// A portal form's fields, read once by the session middleware (it checks the CSRF token).
    public var form: WebForm?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.principal = nil
    }

    /// Request bodies larger than this are refused before they are read.
    public var maxUploadSize: Int { JSONInput.bodySizeMax }

    /// The principal of an authenticated route (the middleware guarantees it).
    public func authenticated() throws -> Principal {
        guard let principal else { throw APIError.unauthorized }
        return principal
    }
}
