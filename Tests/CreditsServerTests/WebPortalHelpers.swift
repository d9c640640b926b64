import CreditsCore
import CreditsServer
import CreditsServices
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// A browser's side of the portal in tests: the session cookie and the page's CSRF token.
struct PortalBrowser: Sendable {
    let server: TestServer
    var cookies: [String: String] = [:]
    var csrf = ""

    init(_ server: TestServer) { self.server = server }

    /// Signs in through the sign-in form (and its double-submit token).
    static func signIn(_ server: TestServer, email: String, password: String) async throws -> PortalBrowser {
        var browser = PortalBrowser(server)
        let token = try await browser.signInToken()
        let signedIn = try await browser.post("/sign-in", ["_csrf": token, "email": email, "password": password])
        #expect(signedIn.status == .seeOther, "\(signedIn.text)")
        #expect(browser.cookies["tc_session"] != nil, "no session cookie after signing in")
        let dashboard = try await browser.get("/dashboard")
        browser.csrf = try #require(
            PortalBrowser.firstMatch(#"name="csrf-token" content="([0-9a-f]+)""#, in: dashboard.text)
        )
        return browser
    }

    /// Opens the sign-in form and returns the token it must send back.
    mutating func signInToken() async throws -> String {
        let form = try await get("/sign-in")
        return try #require(PortalBrowser.firstMatch(#"name="_csrf" value="([0-9a-f]+)""#, in: form.text))
    }

    /// A GET as a browser sends it (asking for HTML).
    @discardableResult
    mutating func get(_ path: String) async throws -> TestResponse {
        try await send(.get, path, body: nil, contentType: nil)
    }

    /// A form POST; the page's CSRF token is added unless the fields carry their own `_csrf` or `withToken` is false.
    @discardableResult
    mutating func post(
        _ path: String,
        _ fields: [String: String],
        withToken: Bool = true,
        repeated: [(String, String)] = []
    ) async throws -> TestResponse {
        var pairs = fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } + repeated
        if withToken, fields["_csrf"] == nil { pairs.append(("_csrf", csrf)) }
        let body = pairs.map { "\(PortalBrowser.encode($0.0))=\(PortalBrowser.encode($0.1))" }.joined(separator: "&")
        return try await send(.post, path, body: body, contentType: "application/x-www-form-urlencoded")
    }

    /// A `multipart/form-data` POST with one file, as a form with a file input sends it; the page's
    /// CSRF token is added unless `withToken` is false.
    @discardableResult
    mutating func upload(
        _ path: String,
        _ fields: [String: String] = [:],
        file: (field: String, name: String, bytes: [UInt8]),
        withToken: Bool = true
    ) async throws -> TestResponse {
        let boundary = "----TextCreditsTest\(UUID().uuidString)"
        var pairs = fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        if withToken { pairs.append(("_csrf", csrf)) }
        var body = ByteBuffer()
        for (name, value) in pairs {
            body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n")
        }
        body.writeString(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.field)\"; filename=\"\(file.name)\"\r\n"
                + "Content-Type: text/csv\r\n\r\n"
        )
        body.writeBytes(file.bytes)
        body.writeString("\r\n--\(boundary)--\r\n")
        return try await send(.post, path, bytes: body, contentType: "multipart/form-data; boundary=\(boundary)")
    }

    /// A script's JSON request (the estimate ticker).
    mutating func script(_ path: String, json: String, token: String?) async throws -> TestResponse {
        var headers: [String: String] = ["Accept": "application/json"]
        if let token { headers["X-CSRF-Token"] = token }
        return try await send(.post, path, body: json, contentType: "application/json", extra: headers)
    }

    mutating func send(
        _ method: HTTPRequest.Method,
        _ path: String,
        body: String?,
        contentType: String?,
        extra: [String: String] = [:]
    ) async throws -> TestResponse {
        try await send(method, path, bytes: body.map { ByteBuffer(string: $0) }, contentType: contentType, extra: extra)
    }

    mutating func send(
        _ method: HTTPRequest.Method,
        _ path: String,
        bytes: ByteBuffer?,
        contentType: String?,
        extra: [String: String] = [:]
    ) async throws -> TestResponse {
        var fields = HTTPFields()
        fields[.accept] = "text/html"
        if let contentType { fields[.contentType] = contentType }
        for (name, value) in extra { if let field = HTTPField.Name(name) { fields[field] = value } }
        if !cookies.isEmpty { fields[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        let response = try await server.client.execute(
            uri: path,
            method: method,
            headers: fields,
            body: bytes
        )
        for header in response.headers[values: .setCookie] {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            guard let name = pair.first.map(String.init) else { continue }
            let value = pair.count > 1 ? String(pair[1]) : ""
            if value.isEmpty || header.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
        }
        return response
    }

    /// The one-time message a redirect left for the next page.
    var flash: String? { cookies["tc_flash"].flatMap { $0.removingPercentEncoding } }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    static func firstMatch(_ pattern: String, in text: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
            let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            let range = Range(match.range(at: 1), in: text)
        else { return nil }
        return String(text[range])
    }
}

extension PortalBrowser {
    /// Adds a staff member with a password and signs them in.
    static func signInNewStaff(
        _ server: TestServer,
        _ org: TestServer.Org,
        role: Role = .staff,
        email: String,
        password: String
    ) async throws -> (browser: PortalBrowser, id: String) {
        let staff = try await server.addStaff(org, role: role, email: email)
        let set = try await server.request(
            .patch,
            "/v1/staff/\(staff.id)",
            key: org.ownerKey,
            json: try jsonText(["password": password])
        )
        #expect(set.status == .ok, "\(set.text)")
        return (try await PortalBrowser.signIn(server, email: email, password: password), staff.id)
    }
}
