import CreditsServer
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

/// Over https every cookie is `Secure` and HSTS is sent: when the public URL is https, and behind
/// a TLS proxy the operator trusts even without one. The proxy's header from anyone else changes
/// nothing.
@Suite struct SecureCookieTests {
    /// Signs the owner in with `headers` on every request; returns the Set-Cookie values seen and
    /// the sign-in page's HSTS header.
    static func signIn(_ server: TestServer, headers: [String: String]) async throws -> (
        cookies: [String], hsts: String?
    ) {
        _ = try await server.makeOrganization()
        var browser = PortalBrowser(server)
        let form = try await browser.send(.get, "/sign-in", body: nil, contentType: nil, extra: headers)
        let token = try #require(PortalBrowser.firstMatch(#"name="_csrf" value="([0-9a-f]+)""#, in: form.text))
        let signedIn = try await browser.send(
            .post,
            "/sign-in",
            body: "_csrf=\(token)&email=owner%40brightstarsgym.example&password=correct+horse+battery",
            contentType: "application/x-www-form-urlencoded",
            extra: headers
        )
        #expect(signedIn.status == .seeOther, "\(signedIn.text)")
        #expect(signedIn.headers[.location] == "/dashboard", "the redirect stays on the scheme the browser used")
        let cookies = form.headers[values: .setCookie] + signedIn.headers[values: .setCookie]
        return (cookies, form.headers[HTTPField.Name("Strict-Transport-Security")!])
    }

    static func cookie(_ name: String, in cookies: [String]) -> String? { cookies.first { $0.hasPrefix(name + "=") } }

    static func isSecure(_ cookie: String?) -> Bool {
        cookie?.split(separator: ";").contains { $0.trimmingCharacters(in: .whitespaces) == "Secure" } == true
    }

    @Test func everyCookieIsSecureBehindATrustedProxyThatReportsHTTPS() async throws {
        for trusted in [false, true] {
            try await TestServer.with(.sqlite, live: true, configure: trustingThisMachine(trusted)) { server in
                let (cookies, hsts) = try await SecureCookieTests.signIn(
                    server,
                    headers: ["X-Forwarded-Proto": "https", "X-Forwarded-Host": "texts.example.org"]
                )
                let session = SecureCookieTests.cookie("tc_session", in: cookies)
                let form = SecureCookieTests.cookie("tc_signin", in: cookies)
                #expect(session != nil && form != nil, "\(cookies)")
                #expect(session?.contains("HttpOnly") == true)
                #expect(SecureCookieTests.isSecure(session) == trusted, "trusted: \(trusted) \(session ?? "")")
                #expect(SecureCookieTests.isSecure(form) == trusted, "trusted: \(trusted) \(form ?? "")")
                #expect((hsts != nil) == trusted)
            }
        }
    }

    @Test func everyCookieIsSecureOnceWhenThePublicURLIsHTTPS() async throws {
        let https: @Sendable (inout AppConfiguration) -> Void = { $0.publicURL = "https://texts.example.org" }
        try await TestServer.with(.sqlite, configure: https) { server in
            let (cookies, hsts) = try await SecureCookieTests.signIn(server, headers: [:])
            #expect(hsts != nil)
            #expect(!cookies.isEmpty)
            for cookie in cookies {
                #expect(SecureCookieTests.isSecure(cookie), "\(cookie)")
                #expect(cookie.components(separatedBy: "Secure").count == 2, "Secure once: \(cookie)")
            }
        }
    }
}
