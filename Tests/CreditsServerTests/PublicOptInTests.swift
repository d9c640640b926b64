import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import TestSupport
import Testing

/// Families opting themselves in: the public page `/join/{organisation id}` and the JOIN keyword
/// send one "reply YES" text; the YES opts the number in with a consent record that keeps the
/// source, the time, the address and the exact wording, then sends the signup message once. The
/// page is rate-limited, never texts an opted-out number, and a refusal changes nothing.
@Suite struct PublicOptInTests {
    static let stores = TestDatabase.available

    static let confirmation =
        "Bright Stars Gym: reply YES to confirm you want texts from us. Msg & data rates may apply. Reply STOP to opt out."

    /// The outbound texts to a number: kind, body and credits.
    func textsTo(_ server: TestServer, _ phone: String) async throws -> [(kind: String, body: String, credits: Int64)] {
        try await server.services.database.read { sql in
            try await sql.raw(
                """
                SELECT kind, body, credits FROM messages WHERE direction = 'outbound' AND to_number = \(bind: phone)
                ORDER BY created_at, id
                """
            ).all().map {
                (
                    try $0.decode(column: "kind", as: String.self), try $0.decode(column: "body", as: String.self),
                    try $0.decode(column: "credits", as: Int64.self)
                )
            }
        }
    }

    /// An organisation whose opt-in page is open (it is closed until the organisation opens it).
    func openOrganization(_ server: TestServer) async throws -> TestServer.Org {
        let org = try await server.makeOrganization()
        let opened = try await server.request(
            .patch,
            "/v1/organization/sms-settings",
            key: org.ownerKey,
            json: #"{"opt_in_page": true}"#
        )
        #expect(opened.status == .ok, "\(opened.text)")
        return org
    }

    func count(_ server: TestServer, _ query: String) async throws -> Int {
        try await server.services.database.read { sql in
            try await sql.raw(SQLQueryString(query)).first().map { try $0.decode(column: "n", as: Int.self) } ?? 0
        }
    }

    func pending(_ server: TestServer, _ org: TestServer.Org, _ phone: String) async throws -> OptIn? {
        try await OptInStore(database: server.services.database).pending(
            organization: org.id,
            phone: phone,
            at: server.clock.now
        )
    }

    /// Opens the page in a signed-out browser and signs up with what it shows.
    func signUp(
        _ server: TestServer,
        _ org: TestServer.Org,
        name: String = "Ana Ortiz",
        phone: String,
        agree: Bool = true,
        browser: PortalBrowser? = nil,
        forwardedFor: String? = nil
    ) async throws -> TestResponse {
        var browser = browser ?? PortalBrowser(server)
        let page = try await browser.get("/join/\(org.id.rawValue)")
        #expect(page.status == .ok, "\(page.text)")
        let token = try #require(PortalBrowser.firstMatch(#"name="_csrf" value="([0-9a-f]+)""#, in: page.text))
        let digest = try #require(
            PortalBrowser.firstMatch(#"name="wording_digest" value="([0-9a-f]{64})""#, in: page.text)
        )
        var fields = ["_csrf": token, "wording_digest": digest, "name": name, "phone": phone]
        if agree { fields["agree"] = "yes" }
        let body = fields.sorted { $0.key < $1.key }
            .map { "\(PortalBrowser.encode($0.key))=\(PortalBrowser.encode($0.value))" }
            .joined(separator: "&")
        return try await browser.send(
            .post,
            "/join/\(org.id.rawValue)",
            body: body,
            contentType: "application/x-www-form-urlencoded",
            extra: forwardedFor.map { ["X-Forwarded-For": $0] } ?? [:]
        )
    }

    @Test(arguments: stores)
    func aSignUpOnThePageSendsOneConfirmationAndWaitsForYes(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await openOrganization(server)
            try await server.fund(org, credits: 10)
            var browser = PortalBrowser(server)
            let page = try await browser.get("/join/\(org.id.rawValue)")
            #expect(page.status == .ok)
            #expect(page.text.contains("Get texts from Bright Stars Gym"))
            #expect(page.headers[.contentSecurityPolicy] == "frame-ancestors 'none'", "linked to, never framed")
            #expect(
                page.text.contains(
                    "I agree to receive text messages from Bright Stars Gym at the number above: updates, reminders and news. Message frequency varies. Msg &amp; data rates may apply. Reply STOP to opt out, HELP for help."
                ),
                "the default wording names the organisation, the frequency, the rates, STOP and HELP"
            )
            #expect(page.text.contains("(415) 555-2671"), "the number is typed the local way")

            let sent = try await signUp(server, org, phone: "(415) 555-2671", browser: browser)
            #expect(sent.status == .ok, "\(sent.text)")
            #expect(sent.text.contains("Check your phone"))
            let texts = try await textsTo(server, "+14155552671")
            #expect(texts.map(\.body) == [PublicOptInTests.confirmation])
            #expect(texts.first?.credits == 1000, "paid from the pool like the signup message")
            #expect(try await server.pool(org)["pending"] as? Double == 1, "reserved like any other message")
            let waiting = try #require(try await pending(server, org, "+14155552671"))
            #expect(waiting.source == .page && waiting.name == "Ana Ortiz")
            #expect(waiting.wording.contains("text messages from Bright Stars Gym"))
            #expect(
                try await server.services.stores.contacts.consent(organization: org.id, phone: "+14155552671")
                    == .pending,
                "nothing is opted in before the YES"
            )

            // Submitting again moments later sends no second text.
            let again = try await signUp(server, org, phone: "415-555-2671")
            #expect(again.status == .ok)
            #expect(again.text.contains("at most one every ten minutes"))
            #expect(try await textsTo(server, "+14155552671").count == 1)

            #expect(try await server.services.dispatcher.runOnce() == 1)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func yesOptsInWithSourceTimeAddressAndWordingAndSendsTheSignupMessageOnce(_ store: TestDatabase) async throws {
        try await TestServer.with(store, live: true, configure: trustingThisMachine(true)) { server in
            let org = try await openOrganization(server)
            try await server.fund(org, credits: 10)
            _ = try await server.request(
                .patch,
                "/v1/organization/sms-settings",
                key: org.ownerKey,
                json: #"{"signup_message": "Welcome to Bright Stars Gym texts!"}"#
            )
            let phone = "+14155552672"
            let asked = server.clock.now
            let sent = try await signUp(server, org, phone: "(415) 555-2672", forwardedFor: "198.51.100.23")
            #expect(sent.status == .ok, "\(sent.text)")
            server.clock.advance(90)

            try await server.inbound(org, from: phone, "Yes")
            #expect(try await server.services.stores.contacts.consent(organization: org.id, phone: phone) == .optedIn)
            let history = try await server.services.stores.contacts.consentHistory(organization: org.id, phone: phone)
            let event = try #require(history.last)
            let record = try #require(event.optIn)
            #expect(event.state == .optedIn && event.source == .keyword && event.rawText == "Yes")
            #expect(record.source == .page)
            #expect(record.address == "198.51.100.23", "the page request's client address")
            #expect(record.requestedAt == asked && record.confirmedAt == asked.addingTimeInterval(90))
            #expect(record.wording.hasPrefix("I agree to receive text messages from Bright Stars Gym"))

            // The contact is added with the name typed on the page, and shows the record.
            let contacts = try await server.request(.get, "/v1/contacts", key: org.ownerKey).list()
            #expect(contacts.map { $0["name"] as? String } == ["Ana Ortiz"])
            let id = try #require(contacts.first?["id"] as? String)
            let detail = try await server.request(.get, "/v1/contacts/\(id)", key: org.ownerKey).object()
            let events = try #require(detail["consent_history"] as? [[String: Any]])
            let shown = try #require(events.last?["opt_in"] as? [String: Any])
            #expect(shown["source"] as? String == "page" && shown["address"] as? String == "198.51.100.23")

            var owner = try await PortalBrowser.signIn(
                server,
                email: "owner@brightstarsgym.example",
                password: "correct horse battery"
            )
            let contactPage = try await owner.get("/contacts/\(id)")
            #expect(contactPage.text.contains("Opted in on the opt-in page, confirmed by texting “Yes”"))
            #expect(contactPage.text.contains("198.51.100.23"))

            // The signup message goes once, even when YES comes again.
            try await server.inbound(org, from: phone, "YES")
            let signups = try await textsTo(server, phone).filter { $0.body == "Welcome to Bright Stars Gym texts!" }
            #expect(signups.count == 1)
            let after = try await server.services.stores.contacts.consentHistory(organization: org.id, phone: phone)
            #expect(after.filter { $0.optIn != nil }.count == 1, "the second YES confirms nothing more")
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func anOptedOutNumberGetsNoTextAndOnlyItsOwnTextUndoesIt(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await openOrganization(server)
            try await server.fund(org, credits: 10)
            let phone = "+14155552673"
            try await server.inbound(org, from: phone, "STOP")
            let before = try await textsTo(server, phone).count

            let refused = try await signUp(server, org, name: "Ben Park", phone: "(415) 555-2673")
            let fresh = try await signUp(server, org, name: "Cara Diaz", phone: "(415) 555-2679")
            #expect(refused.status == .ok, "the page answers the same whatever the number's state")
            #expect(
                refused.text.replacingOccurrences(of: "2673", with: "NNNN")
                    == fresh.text.replacingOccurrences(of: "2679", with: "NNNN"),
                "an opted-out number and a new one get the very same page, so nobody learns who is on the list"
            )
            #expect(refused.text.contains("If you once texted STOP to Bright Stars Gym, text START to their number"))
            #expect(try await textsTo(server, phone).count == before, "no text to an opted-out number")
            #expect(try await count(server, "SELECT COUNT(*) AS n FROM opt_ins WHERE phone = '\(phone)'") == 0)
            #expect(try await server.services.stores.contacts.consent(organization: org.id, phone: phone) == .optedOut)

            // The person's own START opts the number back in.
            try await server.inbound(org, from: phone, "START")
            #expect(try await server.services.stores.contacts.consent(organization: org.id, phone: phone) == .optedIn)
            let signedUp = try await signUp(server, org, name: "Ben Park", phone: "(415) 555-2673")
            #expect(signedUp.text.contains("Check your phone"), "an opted-in number gets the same page too")
            #expect(try await count(server, "SELECT COUNT(*) AS n FROM opt_ins WHERE phone = '\(phone)'") == 0)
        }
    }

    @Test(arguments: stores)
    func tooManySignUpsAnswer429AndSendNothing(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await openOrganization(server)
            try await server.fund(org, credits: 50)
            let limits = OptInLimits.standard
            for index in 0..<limits.perAddressMax {
                let response = try await signUp(server, org, phone: "(415) 555-30\(10 + index)")
                #expect(response.status == .ok, "sign-up \(index + 1)")
            }
            let outboundBefore = try await count(
                server,
                "SELECT COUNT(*) AS n FROM messages WHERE direction = 'outbound'"
            )
            #expect(outboundBefore == limits.perAddressMax)
            let refused = try await signUp(server, org, phone: "(415) 555-3099")
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter] != nil)
            #expect(refused.text.contains("Too many sign-ups have come from this connection."))
            #expect(
                try await count(server, "SELECT COUNT(*) AS n FROM messages WHERE direction = 'outbound'")
                    == outboundBefore
            )
            #expect(try await count(server, "SELECT COUNT(*) AS n FROM opt_ins") == limits.perAddressMax)

            // An hour later the connection may sign up again; one number is limited on its own.
            server.clock.advance(limits.addressWindow + 1)
            for attempt in 0..<limits.perNumberMax {
                let response = try await signUp(server, org, phone: "(415) 555-3100")
                #expect(response.status == .ok, "attempt \(attempt + 1)")
                server.clock.advance(limits.resendAfter + 1)
            }
            #expect(try await textsTo(server, "+14155553100").count == limits.perNumberMax)
            let limited = try await signUp(server, org, phone: "(415) 555-3100")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.text.contains("Too many sign-ups for this number today."))
            #expect(try await textsTo(server, "+14155553100").count == limits.perNumberMax)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func joinStartsADoubleOptInOnlyWhenTurnedOn(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await openOrganization(server)
            try await server.fund(org, credits: 10)
            let phone = "+14155552674"
            try await server.inbound(org, from: phone, "JOIN")
            #expect(try await textsTo(server, phone).isEmpty, "off by default: JOIN is an ordinary message")
            #expect(try await pending(server, org, phone) == nil)

            let on = try await server.request(
                .patch,
                "/v1/organization/sms-settings",
                key: org.ownerKey,
                json: #"{"join_keyword": true}"#
            )
            #expect(on.status == .ok, "\(on.text)")
            try await server.inbound(org, from: phone, " join! ")
            let texts = try await textsTo(server, phone)
            #expect(texts.map(\.body) == [PublicOptInTests.confirmation])
            #expect(texts.first?.kind == "keyword_reply" && texts.first?.credits == 0, "answered free, like HELP")
            let waiting = try #require(try await pending(server, org, phone))
            #expect(waiting.source == .keyword && waiting.address == phone)
            #expect(try await server.services.stores.contacts.consent(organization: org.id, phone: phone) == .pending)

            try await server.inbound(org, from: phone, "YES")
            #expect(try await server.services.stores.contacts.consent(organization: org.id, phone: phone) == .optedIn)
            let history = try await server.services.stores.contacts.consentHistory(organization: org.id, phone: phone)
            #expect(history.last?.optIn?.source == .keyword)
            #expect(history.last?.optIn?.wording.contains("Reply STOP to opt out") == true)
            let contacts = try await server.request(.get, "/v1/contacts", key: org.ownerKey).list()
            #expect(contacts.map { $0["phone"] as? String } == [phone], "a contact is added for the number")
        }
    }

    @Test func settingsStoredBeforeTheOptInPageGetItsDefaults() throws {
        let stored = try JSONEncoder().encode(SMSSettings.defaults(timeZone: "America/Chicago"))
        var object = try #require(try JSONSerialization.jsonObject(with: stored) as? [String: Any])
        object["opt_in_wording"] = nil
        object["join_keyword"] = nil
        let older = try JSONSerialization.data(withJSONObject: object)
        let settings = try JSONDecoder().decode(SMSSettings.self, from: older)
        #expect(settings.optInWording == OptInWording.standard && settings.joinKeyword == false)
        #expect(settings.signupMessage == "" && settings.optOutReply == KeywordReplies.optOut, "the rest is kept")
    }

    @Test func joinIsAKeywordOnlyWhereItIsTurnedOn() {
        #expect(Keywords.classify("Join.") == .other)
        #expect(Keywords.classify("Join.", joinKeyword: true) == .join(keyword: "JOIN"))
        #expect(Keywords.classify("please join me", joinKeyword: true) == .other, "only the whole message")
        #expect(Keywords.classify("YES", joinKeyword: true) == .optIn(keyword: "YES"))
    }

    @Test func anIPv6ConnectionCountsByItsNetwork() {
        #expect(OptInLimits.connection("198.51.100.23") == "198.51.100.23")
        #expect(OptInLimits.connection("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64")
        #expect(OptInLimits.connection("2001:DB8:1:2:bbbb:cccc:dddd:eeee") == "2001:db8:1:2::/64")
        #expect(OptInLimits.connection("2001:db8::7") == "2001:db8:0:0::/64")
    }

    @Test(arguments: stores)
    func anUnknownOrganisationOrAClosedPageIsNotFound(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let closed = try await server.makeOrganization()
            var browser = PortalBrowser(server)
            #expect(
                try await browser.get("/join/\(closed.id.rawValue)").status == .notFound,
                "closed until the organisation opens it"
            )
            #expect(try await browser.get("/join/org_nobody").status == .notFound)
            let posted = try await browser.send(
                .post,
                "/join/org_nobody",
                body: "name=Ana&phone=4155552675&agree=yes",
                contentType: "application/x-www-form-urlencoded"
            )
            #expect(posted.status == .notFound)
            #expect(try await count(server, "SELECT COUNT(*) AS n FROM opt_ins") == 0)
        }
    }

    @Test(arguments: stores)
    func refusalsKeepWhatWasTypedAndChangeNothing(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await openOrganization(server)
            let unticked = try await signUp(server, org, name: "Cy Lee", phone: "(415) 555-2676", agree: false)
            #expect(unticked.status == .unprocessableContent)
            #expect(unticked.text.contains("Tick the box to say you agree to receive texts."))
            #expect(unticked.text.contains(#"value="Cy Lee""#) && unticked.text.contains(#"value="(415) 555-2676""#))
            let badNumber = try await signUp(server, org, name: "Cy Lee", phone: "12")
            #expect(badNumber.status == .unprocessableContent)

            // Without the page's cookie (another site posting the form) nothing happens.
            var stranger = PortalBrowser(server)
            let forged = try await stranger.send(
                .post,
                "/join/\(org.id.rawValue)",
                body: "_csrf=abc&name=Cy+Lee&phone=4155552676&agree=yes",
                contentType: "application/x-www-form-urlencoded"
            )
            #expect(forged.status == .forbidden)

            // No credits: nothing is sent and nothing is kept.
            let broke = try await signUp(server, org, name: "Cy Lee", phone: "(415) 555-2676")
            #expect(broke.status == .serviceUnavailable)
            #expect(broke.text.contains("Texts can’t be sent right now, so nothing was signed up."))
            #expect(try await count(server, "SELECT COUNT(*) AS n FROM opt_ins") == 0)
            #expect(try await count(server, "SELECT COUNT(*) AS n FROM messages") == 0)
            #expect(try await count(server, "SELECT COUNT(*) AS n FROM contacts") == 0)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func theWordingIsTheOrganisationsAndWhatWasShownIsKept(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await openOrganization(server)
            try await server.fund(org, credits: 10)
            let noStop = try await server.request(
                .patch,
                "/v1/organization/sms-settings",
                key: org.ownerKey,
                json: #"{"opt_in_wording": "Texts from {{account}}."}"#
            )
            #expect(noStop.status == .unprocessableContent)
            #expect(noStop.errorField == "opt_in_wording")

            var owner = try await PortalBrowser.signIn(
                server,
                email: "owner@brightstarsgym.example",
                password: "correct horse battery"
            )
            let settings = try await owner.get("/settings/sms")
            #expect(settings.text.contains("/join/\(org.id.rawValue)"), "the page's address, to copy")
            let saved = try await owner.post(
                "/settings/sms",
                [
                    "opt_in_wording":
                        "Yes, {{account}} may text me class news, about 4 msgs/month. Msg & data rates may apply. Reply STOP to stop.",
                    "join_keyword": "false",
                ]
            )
            #expect(saved.status == .seeOther)
            #expect(owner.flash == "notice:SMS settings saved.")
            let joinOn = try await owner.post("/settings/sms", ["join_keyword": "true"])
            #expect(joinOn.status == .seeOther)
            #expect(try await owner.get("/settings/sms").text.contains(#"name="join_keyword" value="true" checked"#))

            // A page shown before the change is not signed up with the new words.
            var browser = PortalBrowser(server)
            let page = try await browser.get("/join/\(org.id.rawValue)")
            #expect(page.text.contains("Yes, Bright Stars Gym may text me class news, about 4 msgs/month."))
            let token = try #require(PortalBrowser.firstMatch(#"name="_csrf" value="([0-9a-f]+)""#, in: page.text))
            let stale = try await browser.post(
                "/join/\(org.id.rawValue)",
                [
                    "_csrf": token, "wording_digest": APIKeys.hash("an older wording"), "name": "Di Ng",
                    "phone": "(415) 555-2677", "agree": "yes",
                ]
            )
            #expect(stale.status == .conflict)
            #expect(try await textsTo(server, "+14155552677").isEmpty)

            let sent = try await signUp(server, org, name: "Di Ng", phone: "(415) 555-2677", browser: browser)
            #expect(sent.status == .ok)
            let waiting = try #require(try await pending(server, org, "+14155552677"))
            #expect(
                waiting.wording
                    == "Yes, Bright Stars Gym may text me class news, about 4 msgs/month. Msg & data rates may apply. Reply STOP to stop."
            )
        }
    }
}
