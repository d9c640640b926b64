import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HTTPTypes
import TestSupport
import Testing

/// Attacks found by an adversarial review, each with the rule that stops it.
@Suite struct HardeningTests {
    static let stores = TestDatabase.available

    @Test(arguments: ["/\t/evil.example/", "/\n/evil.example/", "//evil.example/", "/\\evil.example/", "https://evil.example/", " /x"])
    func signingInNeverRedirectsToAnotherSite(_ next: String) async throws {
        try await TestServer.with(.sqlite) { server in
            _ = try await server.makeOrganization()
            var browser = PortalBrowser(server)
            let token = try await browser.signInToken()
            let signedIn = try await browser.post(
                "/sign-in",
                ["_csrf": token, "email": "owner@brightstarsgym.example", "password": "correct horse battery", "next": next]
            )
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == "/dashboard")
        }
    }

    @Test func aPathOnThisSiteIsKeptAfterSigningIn() async throws {
        try await TestServer.with(.sqlite) { server in
            _ = try await server.makeOrganization()
            var browser = PortalBrowser(server)
            let token = try await browser.signInToken()
            let signedIn = try await browser.post(
                "/sign-in",
                ["_csrf": token, "email": "owner@brightstarsgym.example", "password": "correct horse battery", "next": "/inbox?status=open"]
            )
            #expect(signedIn.headers[.location] == "/inbox?status=open")
        }
    }
}
