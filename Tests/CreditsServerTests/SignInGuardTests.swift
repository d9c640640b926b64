import CreditsAdapters
import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import TestSupport
import Testing

/// Password guessing is slowed, counted in the database before the password is checked, per
/// address and per account, and never locks the real person out.
@Suite struct SignInGuardTests {
    static let stores = TestDatabase.available
    static let owner = "owner@brightstarsgym.example"
    static let password = "correct horse battery"

    enum Outcome: Equatable {
        case signedIn
        case wrong
        case waiting(Int)
    }

    static func attempt(
        _ sessions: SessionService,
        password: String,
        address: String,
        browser: String? = nil
    ) async throws -> Outcome {
        do {
            _ = try await sessions.signIn(
                email: owner,
                password: password,
                organization: nil,
                address: address,
                browserToken: browser
            )
            return .signedIn
        } catch SignInError.failed {
            return .wrong
        } catch SignInError.throttled(let seconds) {
            return .waiting(seconds)
        }
    }

    @Test(arguments: stores)
    func fortyWrongPasswordsAtOnceGetFiveTriesBetweenThem(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            _ = try await server.makeOrganization()
            let sessions = server.services.sessions
            let outcomes = try await withThrowingTaskGroup(of: Outcome.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        try await SignInGuardTests.attempt(sessions, password: "guess \(index)", address: "203.0.113.7")
                    }
                }
                return try await group.reduce(into: [Outcome]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .wrong }.count == 5)
            #expect(outcomes.filter { $0 == .waiting(30) }.count == 35)
        }
    }

    @Test(arguments: stores)
    func guessingFromOneAddressDoesNotKeepTheOwnerOutElsewhere(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            _ = try await server.makeOrganization()
            let sessions = server.services.sessions
            for index in 0..<12 {
                _ = try await SignInGuardTests.attempt(sessions, password: "guess \(index)", address: "203.0.113.7")
                server.clock.advance(1)
            }
            #expect(try await SignInGuardTests.attempt(sessions, password: "guess", address: "203.0.113.7") != .wrong)
            // The owner, at the office, is not held back by someone else's guessing.
            #expect(
                try await SignInGuardTests.attempt(
                    sessions,
                    password: SignInGuardTests.password,
                    address: "198.51.100.20"
                ) == .signedIn
            )
            // Even the guesser's address gets the right password in after the wait, which is at most 15 minutes.
            server.clock.advance(15 * 60)
            #expect(
                try await SignInGuardTests.attempt(
                    sessions,
                    password: SignInGuardTests.password,
                    address: "203.0.113.7"
                ) == .signedIn
            )
        }
    }

    @Test(arguments: stores)
    func aSpreadOutAttackSlowsNewBrowsersButNotOneTheOwnerUsedBefore(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            _ = try await server.makeOrganization()
            let sessions = server.services.sessions
            let first = try await sessions.signIn(
                email: SignInGuardTests.owner,
                password: SignInGuardTests.password,
                organization: nil,
                address: "198.51.100.20",
                browserToken: nil
            )
            guard case .signedIn(_, _, let browser) = first else {
                Issue.record("the owner signs in")
                return
            }
            // One guess from each of 25 addresses: more than the 20 the email allows anywhere.
            var outcomes: [Outcome] = []
            for index in 0..<25 {
                outcomes.append(
                    try await SignInGuardTests.attempt(sessions, password: "guess", address: "203.0.113.\(index)")
                )
            }
            #expect(outcomes.prefix(20).allSatisfy { $0 == .wrong })
            #expect(outcomes.suffix(5).allSatisfy { if case .waiting = $0 { true } else { false } })
            // A new browser waits (briefly); the owner's own browser does not.
            #expect(
                try await SignInGuardTests.attempt(
                    sessions,
                    password: SignInGuardTests.password,
                    address: "198.51.100.21"
                ) == .waiting(60)
            )
            #expect(
                try await SignInGuardTests.attempt(
                    sessions,
                    password: SignInGuardTests.password,
                    address: "198.51.100.21",
                    browser: browser
                )
                    == .signedIn
            )
            // A made-up browser token is no help.
            #expect(
                try await SignInGuardTests.attempt(
                    sessions,
                    password: SignInGuardTests.password,
                    address: "198.51.100.22",
                    browser: String(repeating: "a", count: 64)
                )
                    == .waiting(60)
            )
        }
    }

    @Test(arguments: stores)
    func serversSharingADatabaseShareTheCount(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            _ = try await server.makeOrganization()
            let other = try await AppServices.build(
                configuration: server.services.configuration,
                database: server.services.database,
                now: server.services.now,
                logger: Logger(label: "second server")
            )
            for index in 0..<5 {
                let sessions = index.isMultiple(of: 2) ? server.services.sessions : other.sessions
                #expect(
                    try await SignInGuardTests.attempt(sessions, password: "guess \(index)", address: "203.0.113.7")
                        == .wrong
                )
            }
            #expect(
                try await SignInGuardTests.attempt(other.sessions, password: "guess", address: "203.0.113.7")
                    == .waiting(30)
            )
            #expect(
                try await SignInGuardTests.attempt(server.services.sessions, password: "guess", address: "203.0.113.7")
                    == .waiting(30)
            )
        }
    }

    @Test func tallyRowsAreForgottenAfterAQuietDay() async throws {
        try await TestServer.with(.sqlite) { server in
            _ = try await server.makeOrganization()
            _ = try await SignInGuardTests.attempt(server.services.sessions, password: "guess", address: "203.0.113.7")
            #expect(try await server.services.sessions.forgetStaleSignIns() == 0)
            server.clock.advance(24 * 3600 + 1)
            #expect(try await server.services.sessions.forgetStaleSignIns() == 3)
        }
    }

    @Test func theSignInPageSaysHowLongToWaitAndTheBrowserIsRemembered() async throws {
        try await TestServer.with(.sqlite) { server in
            _ = try await server.makeOrganization()
            var browser = PortalBrowser(server)
            for _ in 0..<5 {
                let token = try await browser.signInToken()
                let wrong = try await browser.post(
                    "/sign-in",
                    ["_csrf": token, "email": SignInGuardTests.owner, "password": "not it at all"]
                )
                #expect(wrong.status == .unauthorized)
            }
            let token = try await browser.signInToken()
            let waiting = try await browser.post(
                "/sign-in",
                ["_csrf": token, "email": SignInGuardTests.owner, "password": SignInGuardTests.password]
            )
            #expect(waiting.status == .tooManyRequests)
            #expect(waiting.headers[.retryAfter] == "30")
            #expect(waiting.text.contains("Please wait 30 seconds before trying again"))
            server.clock.advance(30)
            let signedIn = try await browser.post(
                "/sign-in",
                ["_csrf": token, "email": SignInGuardTests.owner, "password": SignInGuardTests.password]
            )
            #expect(signedIn.status == .seeOther)
            let cookie = signedIn.headers[values: .setCookie].first { $0.hasPrefix("tc_browser=") }
            #expect(cookie?.contains("HttpOnly") == true)
            #expect(cookie?.contains("Path=/sign-in") == true)
        }
    }

    /// In front of a proxy the operator did not name, anyone could claim any address.
    @Test func forwardedForIsBelievedOnlyFromATrustedProxy() async throws {
        for trusted in [false, true] {
            try await TestServer.with(.sqlite, live: true, configure: trustingThisMachine(trusted)) { server in
                _ = try await server.makeOrganization()
                var statuses: [HTTPResponse.Status] = []
                for index in 0..<7 {
                    var browser = PortalBrowser(server)
                    let token = try await browser.signInToken()
                    let response = try await browser.send(
                        .post,
                        "/sign-in",
                        body: "_csrf=\(token)&email=owner%40brightstarsgym.example&password=guess+\(index)",
                        contentType: "application/x-www-form-urlencoded",
                        extra: ["X-Forwarded-For": "198.51.100.\(index)"]
                    )
                    statuses.append(response.status)
                }
                if trusted {
                    #expect(
                        statuses.allSatisfy { $0 == .unauthorized },
                        "each forwarded address has its own five tries"
                    )
                } else {
                    #expect(statuses.filter { $0 == .unauthorized }.count == 5, "\(statuses)")
                    #expect(statuses.suffix(2).allSatisfy { $0 == .tooManyRequests })
                }
            }
        }
    }
}

/// Behind a TLS proxy the operator names, callbacks are checked against the URL the proxy says
/// was called; from anyone else, forwarded headers are ignored.
@Suite struct ForwardedCallbackTests {
    static func post(_ server: TestServer, _ org: TestServer.Org, forwarding headers: [String: String]) async throws
        -> TestResponse
    {
        let number = try await server.services.sendingNumbers.sendingNumber(org.id)
        let parameters = ["MessageSid": "SMfwd", "From": "+14155550183", "To": number, "Body": "hello"]
        let path = "/webhooks/simulator/inbound"
        var fields = HTTPFields()
        fields[.contentType] = "application/x-www-form-urlencoded"
        fields[HTTPField.Name("X-Twilio-Signature")!] = TwilioSignature.sign(
            url: "https://texts.example.org" + path,
            parameters: parameters,
            authToken: server.services.simulator?.authToken ?? ""
        )
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        let body = FormEncoding.encode(parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        return try await server.client.execute(
            uri: path,
            method: .post,
            headers: fields,
            body: ByteBuffer(string: body)
        )
    }

    @Test func aProxyTheOperatorTrustsVouchesForTheURL() async throws {
        for trusted in [false, true] {
            try await TestServer.with(.sqlite, live: true, configure: trustingThisMachine(trusted)) { server in
                let org = try await server.makeOrganization()
                let response = try await ForwardedCallbackTests.post(
                    server,
                    org,
                    forwarding: ["X-Forwarded-Proto": "https", "X-Forwarded-Host": "texts.example.org"]
                )
                #expect(response.status == (trusted ? .ok : .forbidden), "trusted: \(trusted) \(response.text)")
            }
        }
    }
}

/// Configures a server that believes forwarded headers from 127.0.0.1, or from nobody.
func trustingThisMachine(_ trusted: Bool) -> @Sendable (inout AppConfiguration) -> Void {
    { $0.trustedProxies = trusted ? ["127.0.0.1"] : [] }
}
