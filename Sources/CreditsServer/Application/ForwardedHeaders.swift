import HTTPTypes
import Hummingbird
import NIOCore

/// Who a request comes from and which URL it was sent to. `X-Forwarded-For`, `-Proto` and
/// `-Host` are believed only when the connected peer is one of the proxies the operator named
/// (`--trusted-proxy`); from anyone else they are ignored, since anyone can send them.
struct ForwardedHeaders: Sendable {
    /// Addresses of the proxies in front of the server.
    let trustedProxies: Set<String>

    /// The peer's address as text ("127.0.0.1", "::1"), or nil when unknown (in-process tests).
    static func peer(_ context: AppRequestContext) -> String? { context.remoteAddress?.ipAddress }

    /// The client's address: the peer's, or, behind a trusted proxy, the nearest address in
    /// `X-Forwarded-For` that is not itself a trusted proxy.
    func clientAddress(_ request: Request, context: AppRequestContext) -> String {
        let peer = ForwardedHeaders.peer(context) ?? "unknown"
        guard trustedProxies.contains(peer) else { return peer }
        let hops = request.headers[values: .xForwardedFor]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        return hops.last { !trustedProxies.contains($0) } ?? hops.first ?? peer
    }

    /// True when a trusted proxy reports that the client reached it over https
    /// (`X-Forwarded-Proto: https`); what anyone else says about it is ignored.
    func isHTTPS(_ request: Request, context: AppRequestContext) -> Bool {
        guard let peer = ForwardedHeaders.peer(context), trustedProxies.contains(peer) else { return false }
        return request.headers[.xForwardedProto]?.lowercased() == "https"
    }

    /// The URL the client addressed, as a trusted proxy reports it (scheme, host, path and
    /// query); nil when the peer is not a trusted proxy or says nothing.
    func forwardedURL(_ request: Request, context: AppRequestContext) -> String? {
        guard let peer = ForwardedHeaders.peer(context), trustedProxies.contains(peer),
            let host = request.headers[.xForwardedHost] ?? request.head.authority,
            !host.isEmpty, !host.contains(where: { $0 == "/" || $0 == "@" || $0.isWhitespace })
        else { return nil }
        let scheme = isHTTPS(request, context: context) ? "https" : "http"
        return "\(scheme)://\(host)\(request.uri.description)"
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let xForwardedHost = HTTPField.Name("X-Forwarded-Host")!
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
}
