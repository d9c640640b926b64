import CreditsCore
import CreditsServices
import CreditsStore
import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's core plus the authenticated principal.
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by the authentication middleware on `/v1` routes.
    public var principal: Principal?
    /// Set by the web session middleware on portal pages.
    public var webSession: WebSessionRecord?
    /// A portal form's fields, read once by the session middleware (it checks the CSRF token).
    public var form: WebForm?
    /// The connected peer (the client, or the proxy in front of the server).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.principal = nil
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Request bodies larger than this are refused before they are read.
    public var maxUploadSize: Int { JSONInput.bodySizeMax }

    /// The principal of an authenticated route (the middleware guarantees it).
    public func authenticated() throws -> Principal {
        guard let principal else { throw APIError.unauthorized }
        return principal
    }
}
