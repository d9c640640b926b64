import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

@testable import CreditsServer

/// "Forgot your password?": a link by email that works once, for an hour, signs the person out
/// everywhere, never tells whether an address has an account, and is never shown to the
/// organisation (an admin reading the owner's link could take the owner over).
@Suite struct PasswordResetTests {
    static let stores = TestDatabase.available
    static let ownerEmail = "owner@brightstarsgym.example"

    /// Opens the request form (for its token) and asks for a link.
    func ask(_ server: TestServer, _ email: String) async throws -> TestResponse {
        var browser = PortalBrowser(server)
        let form = try await browser.get("/password-reset")
        let token = try #require(PortalBrowser.firstMatch(#"name="_csrf" value="([0-9a-f]+)""#, in: form.text))
        return try await browser.post("/password-reset", ["_csrf": token, "email": email], withToken: false)
    }

    func links(_ server: TestServer, _ email: String) async throws -> [String] {
        try await server.services.stores.mail.mail(to: email, limit: 100).compactMap {
            PortalBrowser.firstMatch(#"(/password-reset/[0-9a-f]+)"#, in: $0.body)
        }
    }

    @Test(arguments: stores)
    func aLinkWorksOnceSignsOutEverywhereAndStaysOutOfTheOrganisationsMail(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            var elsewhere = try await PortalBrowser.signIn(
                server,
                email: PasswordResetTests.ownerEmail,
                password: "correct horse battery"
            )
            let asked = try await ask(server, " Owner@BrightStarsGym.example ")
            #expect(asked.status == .seeOther && asked.headers[.location] == "/sign-in")
            let link = try #require(try await links(server, PasswordResetTests.ownerEmail).first)
            let listed = try await server.request(.get, "/v1/mail", key: org.ownerKey).list()
            #expect(!listed.contains { ($0["body"] as? String)?.contains("/password-reset/") == true })

            var browser = PortalBrowser(server)
            let page = try await browser.get(link)
            #expect(page.status == .ok && page.text.contains("The same password again"))
            let token = try #require(PortalBrowser.firstMatch(#"name="_csrf" value="([0-9a-f]+)""#, in: page.text))
            let mismatch = try await browser.post(
                link,
                ["_csrf": token, "password": "a brand new password", "password_again": "a different one!!"],
                withToken: false
            )
            #expect(mismatch.status == .unprocessableContent && mismatch.text.contains("not the same"))
            let short = try await browser.post(
                link,
                ["_csrf": token, "password": "short", "password_again": "short"],
                withToken: false
            )
            #expect(short.status == .unprocessableContent, "a weak password is refused and the link stays usable")
            let changed = try await browser.post(
                link,
                ["_csrf": token, "password": "a brand new password", "password_again": "a brand new password"],
                withToken: false
            )
            #expect(changed.status == .seeOther && changed.headers[.location] == "/sign-in", "\(changed.text)")
            #expect(try await elsewhere.get("/dashboard").status == .seeOther, "the other session ended")
            _ = try await PortalBrowser.signIn(
                server,
                email: PasswordResetTests.ownerEmail,
                password: "a brand new password"
            )
            let again = try await browser.post(
                link,
                ["_csrf": token, "password": "yet another password", "password_again": "yet another password"],
                withToken: false
            )
            #expect(again.status == .notFound && again.text.contains("expired or was already used"))
            let audit = try await server.request(.get, "/v1/audit-log", key: org.ownerKey).list()
            #expect(audit.contains { $0["action"] as? String == "staff.password_reset" })
        }
    }

    @Test(arguments: stores)
    func aLinkExpiresAfterAnHour(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            _ = try await server.makeOrganization()
            _ = try await ask(server, PasswordResetTests.ownerEmail)
            let link = try #require(try await links(server, PasswordResetTests.ownerEmail).first)
            server.clock.advance(PasswordResetService.lifetime + 1)
            var browser = PortalBrowser(server)
            let page = try await browser.get(link)
            #expect(page.status == .notFound && page.text.contains("expired or was already used"))
        }
    }

    @Test(arguments: stores)
    func anUnknownAddressGetsTheSameAnswerAndAskingIsLimited(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            _ = try await server.makeOrganization()
            let known = try await ask(server, PasswordResetTests.ownerEmail)
            let unknown = try await ask(server, "nobody@example.com")
            #expect(known.status == unknown.status && known.headers[.location] == unknown.headers[.location])
            #expect(try await server.services.stores.mail.mail(to: "nobody@example.com", limit: 10).isEmpty)
            var forged = PortalBrowser(server)
            let refused = try await forged.post(
                "/password-reset",
                ["email": PasswordResetTests.ownerEmail],
                withToken: false
            )
            #expect(refused.text.contains("This form is out of date"))
            #expect(try await links(server, PasswordResetTests.ownerEmail).count == 1, "a forged form mails nothing")

            for _ in 0..<5 { _ = try await ask(server, PasswordResetTests.ownerEmail) }
            #expect(try await links(server, PasswordResetTests.ownerEmail).count == PasswordResetService.perHour)
        }
    }

    @Test(arguments: stores)
    func someoneWithoutAPasswordGetsNoLinkAndLogsNeverHoldATokenPath(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            _ = try await server.addStaff(org, role: .staff, email: "integration@example.com")
            _ = try await ask(server, "integration@example.com")
            #expect(try await links(server, "integration@example.com").isEmpty, "an API-only member gets no link")
            #expect(RequestLog.path("/password-reset/0123abcd") == "/password-reset/[token]")
            #expect(RequestLog.path("/password-reset") == "/password-reset")
        }
    }

    @Test(arguments: stores)
    func aLinkStopsWorkingWhenThePasswordOrEmailChangesAnotherWay(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            _ = try await ask(server, PasswordResetTests.ownerEmail)
            let link = try #require(try await links(server, PasswordResetTests.ownerEmail).first)
            let changed = try await server.request(
                .patch,
                "/v1/staff/\(org.ownerID)",
                key: org.ownerKey,
                json: #"{"password": "another long password", "current_password": "correct horse battery"}"#
            )
            #expect(changed.status == .ok, "\(changed.text)")
            var browser = PortalBrowser(server)
            #expect(try await browser.get(link).status == .notFound, "the old link is spent")
        }
    }
}
