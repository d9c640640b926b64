import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import TestSupport
import Testing

/// The office portal's rules, through its pages: sign-in and sessions, CSRF on every form,
/// refusals that change nothing, role-aware pages, and one organisation never seeing another's.
@Suite struct WebPortalTests {
    static let ownerEmail = "owner@brightstarsgym.example"
    static let ownerPassword = "correct horse battery"

    @Test(arguments: TestDatabase.available)
    func signingInOpensASessionAndSigningOutEndsIt(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            _ = try await server.makeOrganization()
            var stranger = PortalBrowser(server)
            let away = try await stranger.get("/dashboard")
            #expect(away.status == .seeOther)
            #expect(away.headers[.location] == "/sign-in?next=%2Fdashboard")

            var wrong = PortalBrowser(server)
            let token = try await wrong.signInToken()
            let refused = try await wrong.post(
                "/sign-in",
                ["_csrf": token, "email": WebPortalTests.ownerEmail, "password": "not the password"]
            )
            #expect(refused.status == .unauthorized)
            #expect(refused.text.contains("The email or password is not right."))
            #expect(wrong.cookies["tc_session"] == nil)

            var owner = try await PortalBrowser.signIn(
                server,
                email: WebPortalTests.ownerEmail,
                password: WebPortalTests.ownerPassword
            )
            let dashboard = try await owner.get("/dashboard")
            #expect(dashboard.status == .ok)
            #expect(dashboard.text.contains("Bright Stars Gym"))
            let signedOut = try await owner.post("/sign-out", [:])
            #expect(signedOut.headers[.location] == "/sign-in")
            #expect(try await owner.get("/dashboard").status == .seeOther, "the session ended")
        }
    }

    @Test(arguments: TestDatabase.available)
    func anEmailInTwoOrganisationsPicksOne(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            for name in ["Alpha Academy", "Beta Bakery"] {
                _ = try await server.services.administration.createOrganization(
                    name: name,
                    country: .us,
                    timeZone: "America/Chicago",
                    creditMode: .shared,
                    ownerName: "Pat Both",
                    ownerEmail: "pat@example.com",
                    ownerPassword: "the same password",
                    actor: .system
                )
            }
            var browser = PortalBrowser(server)
            let token = try await browser.signInToken()
            let choose = try await browser.post(
                "/sign-in",
                ["_csrf": token, "email": "pat@example.com", "password": "the same password"]
            )
            #expect(
                choose.status == .ok && browser.cookies["tc_session"] == nil,
                "no session until an organisation is picked"
            )
            #expect(choose.text.contains("Alpha Academy") && choose.text.contains("Beta Bakery"))
            let beta = try #require(
                PortalBrowser.firstMatch(#"<option value="(org_[0-9a-f]+)">Beta Bakery"#, in: choose.text)
            )
            _ = try await browser.post(
                "/sign-in",
                ["_csrf": token, "email": "pat@example.com", "password": "the same password", "organization": beta]
            )
            #expect(try await browser.get("/dashboard").text.contains("Beta Bakery"))
        }
    }

    @Test(arguments: TestDatabase.available)
    func aSessionCookieIsHttpOnlyAndExpires(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            _ = try await server.makeOrganization()
            var browser = PortalBrowser(server)
            let token = try await browser.signInToken()
            let signedIn = try await browser.post(
                "/sign-in",
                ["_csrf": token, "email": WebPortalTests.ownerEmail, "password": WebPortalTests.ownerPassword]
            )
            let cookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("tc_session=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"))
            #expect(try await browser.get("/dashboard").status == .ok)
            server.clock.advance(SessionService.lifetime + 1)
            #expect(try await browser.get("/dashboard").status == .seeOther, "an expired session signs the browser out")
            #expect(
                try await WebSessionStore(database: server.services.database).deleteExpired(before: server.clock.now)
                    == 1
            )
        }
    }

    @Test(arguments: TestDatabase.available)
    func aFormWithoutItsCSRFTokenChangesNothing(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            var owner = try await PortalBrowser.signIn(
                server,
                email: WebPortalTests.ownerEmail,
                password: WebPortalTests.ownerPassword
            )
            let missing = try await owner.post("/settings/sms", ["header": "Forged header"], withToken: false)
            #expect(missing.status == .forbidden)
            #expect(missing.text.contains("Reload the page and try again"), "a page, not raw JSON: \(missing.text)")
            let forged = try await owner.post(
                "/settings/sms",
                ["header": "Forged header", "_csrf": String(repeating: "0", count: 64)]
            )
            #expect(forged.status == .forbidden)
            var settings =
                try await server.request(.get, "/v1/organization", key: org.ownerKey).object()["sms_settings"]
                as? [String: Any]
            #expect(settings?["header"] as? String == "", "nothing changed")

            let saved = try await owner.post(
                "/settings/sms",
                ["header": "Bright Stars Gym", "footer": "To opt out, reply STOP."]
            )
            #expect(saved.status == .seeOther)
            #expect(owner.flash == "notice:SMS settings saved.")
            settings =
                try await server.request(.get, "/v1/organization", key: org.ownerKey).object()["sms_settings"]
                as? [String: Any]
            #expect(settings?["header"] as? String == "Bright Stars Gym")

            var noSession = PortalBrowser(server)
            let script = try await noSession.script("/app/estimate", json: #"{"body": "hi"}"#, token: owner.csrf)
            #expect(script.status == .unauthorized)
            let unsigned = try await owner.script("/app/estimate", json: #"{"body": "hi"}"#, token: nil)
            #expect(unsigned.status == .forbidden && unsigned.errorCode == "csrf_invalid")
        }
    }

    @Test(arguments: TestDatabase.available)
    func refusedInputGoesBackWithTheMessageAndChangesNothing(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            var owner = try await PortalBrowser.signIn(
                server,
                email: WebPortalTests.ownerEmail,
                password: WebPortalTests.ownerPassword
            )
            let tooLong = try await owner.post(
                "/settings/sms",
                ["header": String(repeating: "x", count: 51), "footer": "Reply STOP to opt out."]
            )
            #expect(tooLong.status == .seeOther)
            #expect(tooLong.headers[.location] == "/settings/sms")
            #expect(owner.flash == "error:Message header is 51 characters; the limit is 50.")
            let page = try await owner.get("/settings/sms")
            #expect(page.text.contains("Message header is 51 characters; the limit is 50."))
            #expect(owner.flash == nil, "the message is shown once")
            let settings =
                try await server.request(.get, "/v1/organization", key: org.ownerKey).object()["sms_settings"]
                as? [String: Any]
            #expect(settings?["footer"] as? String == "", "the footer in the same refused form was not saved either")

            // As the page sends it: the days' hidden empty field, and no box ticked.
            _ = try await owner.post(
                "/settings/sms",
                ["sending_hours.start": "08:00", "sending_hours.end": "20:00", "sending_hours.days": ""]
            )
            #expect(
                owner.flash == "error:Choose at least one day for sending.",
                "unticking every day is refused, not ignored"
            )

            let unticked = try await owner.post(
                "/credits/transfer",
                ["from": "pool", "to": "pool", "credits": "5", "idempotency_key": "t0"]
            )
            #expect(unticked.status == .seeOther)
            #expect(
                owner.flash == "error:Tick “I agree” to the transfer conditions before transferring.",
                "the Agentbox page: tick to agree to conditions and select Transfer"
            )
            let notANumber = try await owner.post(
                "/credits/transfer",
                ["from": "pool", "to": "pool", "credits": "lots", "idempotency_key": "t1", "agree": "yes"]
            )
            #expect(notANumber.status == .seeOther)
            #expect(owner.flash == "error:credits must be a number.")
        }
    }

    @Test(arguments: TestDatabase.available)
    func buyingTwiceFromTheSameFormChargesOnce(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            var owner = try await PortalBrowser.signIn(
                server,
                email: WebPortalTests.ownerEmail,
                password: WebPortalTests.ownerPassword
            )
            let card = try await owner.post(
                "/billing/payment-method",
                ["card.number": "4242 4242 4242 4242", "card.exp_month": "12", "card.exp_year": "2040"]
            )
            #expect(owner.flash == "notice:Payment method saved: visa ending 4242.", "\(card.status)")
            let page = try await owner.get("/credits/buy")
            let key = try #require(
                PortalBrowser.firstMatch(#"name="idempotency_key" value="([0-9a-f]+)""#, in: page.text)
            )
            let first = try await owner.post("/credits/buy", ["credits": "150", "idempotency_key": key])
            let second = try await owner.post("/credits/buy", ["credits": "150", "idempotency_key": key])
            #expect(first.headers[.location] == second.headers[.location])
            let confirmation = try await owner.get(try #require(first.headers[.location]))
            #expect(confirmation.text.contains("150 credits added"))
            #expect(try await server.pool(org)["available"] as? Int == 150, "charged and credited once")
            let purchases = try await server.request(.get, "/v1/credits/purchases", key: org.ownerKey).list()
            #expect(purchases.count == 1)
            let invoice = try await owner.get("/invoices/\(try #require(purchases.first?["id"] as? String))")
            #expect(invoice.text.contains("TC-000001"))

            let declined = try await owner.post(
                "/billing/payment-method",
                ["card.number": "4000 0000 0000 0002", "card.exp_month": "12", "card.exp_year": "2040"]
            )
            #expect(declined.status == .seeOther)
            _ = try await owner.post("/credits/buy", ["credits": "150", "idempotency_key": "another"])
            #expect(owner.flash?.hasPrefix("error:") == true)
            #expect(try await server.pool(org)["available"] as? Int == 150, "a declined card adds nothing")
        }
    }

    @Test(arguments: TestDatabase.available)
    func pagesAStaffMemberMayNotUseAreAbsentAndRefused(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 40)
            let added = try await server.request(
                .post,
                "/v1/staff",
                key: org.ownerKey,
                json: try jsonText([
                    "name": "Dana Lee", "email": "dana@example.com", "role": "staff", "password": "dana's own password",
                ])
            )
            #expect(added.status == .created, "\(added.text)")
            var dana = try await PortalBrowser.signIn(
                server,
                email: "dana@example.com",
                password: "dana's own password"
            )
            let dashboard = try await dana.get("/dashboard")
            for hidden in ["/credits/buy", "/settings/sms", "/audit-log", "/billing/transactions"] {
                #expect(!dashboard.text.contains("href=\"\(hidden)\""), "\(hidden) is not offered")
            }
            #expect(dashboard.text.contains("href=\"/compose\""))
            for page in ["/credits/buy", "/settings/sms", "/audit-log", "/billing/transactions"] {
                let refused = try await dana.get(page)
                #expect(refused.status == .forbidden, "\(page)")
                #expect(refused.text.contains("Not available to you"))
            }
            _ = try await dana.post("/credits/buy", ["credits": "100", "idempotency_key": "dana-1"])
            #expect(dana.flash?.hasPrefix("error:") == true)
            _ = try await dana.post("/settings/sms", ["header": "Dana's header"])
            #expect(dana.flash?.hasPrefix("error:") == true)
            _ = try await dana.post(
                "/credits/transfer",
                [
                    "from": "pool", "to": try #require(try added.object()["id"] as? String), "credits": "5",
                    "idempotency_key": "d",
                ]
            )
            #expect(dana.flash?.hasPrefix("error:") == true)
            #expect(try await server.pool(org)["available"] as? Int == 40, "nothing moved")
            let settings =
                try await server.request(.get, "/v1/organization", key: org.ownerKey).object()["sms_settings"]
                as? [String: Any]
            #expect(settings?["header"] as? String == "")
        }
    }

    @Test(arguments: TestDatabase.available)
    func anotherOrganisationsPagesAreNotFound(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let a = try await server.makeOrganization("Alpha Academy", mode: .individual)
            _ = try await server.makeOrganization("Beta Bakery", mode: .individual)
            try await server.fund(a, credits: 50)
            let aStaff = try await server.addStaff(a, role: .staff)
            _ = try await server.request(
                .post,
                "/v1/contacts",
                key: a.ownerKey,
                json: #"{"name": "Alpha Parent", "phone": "4155552671", "consent": "opted_in"}"#
            )
            let send = try await server.request(
                .post,
                "/v1/messages",
                key: a.ownerKey,
                json: #"{"to": ["+14155552671"], "body": "Alpha recital tonight", "override_sending_hours": true}"#
            )
            let campaign = try #require(try send.object()["id"] as? String, "\(send.text)")
            try await server.inbound(a, from: "+14155552672", "Alpha question")
            let conversation = try #require(
                try await server.request(.get, "/v1/conversations", key: a.ownerKey).list().first?["id"] as? String
            )
            _ = try await BillingTests.putCard(server, a, "4242 4242 4242 4242")
            let purchase = try #require(
                try await BillingTests.buy(server, a, credits: 100, key: "alpha-1").object()["id"] as? String
            )

            var beta = try await PortalBrowser.signIn(
                server,
                email: "owner@betabakery.example",
                password: WebPortalTests.ownerPassword
            )
            for page in [
                "/campaigns/\(campaign)", "/inbox/\(conversation)", "/credits/purchases/\(purchase)",
                "/invoices/\(purchase)",
                "/credits/log?wallet=\(aStaff.id)",
            ] {
                let response = try await beta.get(page)
                #expect(response.status == .notFound, "\(page): \(response.status)")
                #expect(!response.text.contains("Alpha"), "\(page) shows nothing of Alpha")
            }
            #expect(try await beta.post("/inbox/\(conversation)/reply", ["body": "Beta reply"]).status == .notFound)
            #expect(try await beta.post("/campaigns/\(campaign)/cancel", [:]).status == .notFound)
            let messages =
                try await server.request(.get, "/v1/conversations/\(conversation)", key: a.ownerKey).object()[
                    "messages"
                ] as? [[String: Any]]
            #expect(messages?.count == 1, "no reply went into Alpha's conversation")
            let status =
                try await server.request(.get, "/v1/campaigns/\(campaign)", key: a.ownerKey).object()["status"]
                as? String
            #expect(status != "canceled")
        }
    }

    @Test(arguments: TestDatabase.available)
    func theComposerEstimatesWithTheSessionAndSendsToAGroup(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 20)
            _ = try await server.request(
                .post,
                "/v1/contacts/import",
                key: org.ownerKey,
                json:
                    #"{"consent": "opted_in", "contacts": [{"name": "Ana Ortiz", "phone": "4155552671", "groups": ["families"]}, {"name": "Ben Park", "phone": "4155552672", "groups": ["families"]}]}"#
            )
            var owner = try await PortalBrowser.signIn(
                server,
                email: WebPortalTests.ownerEmail,
                password: WebPortalTests.ownerPassword
            )
            let body = #"{"body": "Class is canceled today 😀"}"#
            let ticker = try await owner.script("/app/estimate", json: body, token: owner.csrf)
            let api = try await server.request(.post, "/v1/estimate", key: org.ownerKey, json: body)
            #expect(ticker.status == .ok && ticker.text == api.text, "the ticker and the API give one estimate")

            let compose = try await owner.get("/compose")
            #expect(compose.text.contains("(2 can receive texts now)"), "the group says who can receive it now")
            let sent = try await owner.post(
                "/compose",
                ["body": "Hi {{first_name}}, class is canceled today", "override_sending_hours": "true"],
                repeated: [("groups", "families")]
            )
            let location = try #require(sent.headers[.location])
            #expect(location.hasPrefix("/campaigns/cmp_"))
            #expect(owner.flash == "notice:2 texts queued; 2 credits reserved.")
            let progress = try await owner.get(location)
            #expect(
                progress.text.contains("data-live=\"/campaigns/"),
                "the page follows the campaign while it is sending"
            )
        }
    }

    @Test(arguments: TestDatabase.available)
    func theDashboardChartsTheCreditsUsedEachDay(_ store: TestDatabase) async throws {
        try await TestServer.with(store, live: true) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            try await server.importContacts(org, phones: ["+14155552671", "+14155550001", "+14155552673"])
            let sent = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"groups": ["families"], "body": "Practice moves to 5pm", "override_sending_hours": true}"#
            )
            let id = try #require(try sent.object()["id"] as? String, "\(sent.text)")
            let settled = try await server.eventually(60) {
                try await server.request(.get, "/v1/campaigns/\(id)", key: org.ownerKey).object()["status"] as? String
                    == "completed"
            }
            #expect(settled)
            let zone = try #require(TimeZone(identifier: "America/Chicago"))
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let today = calendar.startOfDay(for: server.clock.now)
            let days = (-2...1).compactMap { calendar.date(byAdding: .day, value: $0, to: today) }
            let usage = try await server.services.stores.ledger.usage(of: org.id, boundaries: days)
            #expect(
                usage.map(\.total) == [.zero, .zero, Credits(credits: 2)],
                "two delivered texts today; the failed one cost nothing"
            )
            #expect(usage.map(\.voice) == [.zero, .zero, .zero], "no calls")

            var owner = try await PortalBrowser.signIn(
                server,
                email: WebPortalTests.ownerEmail,
                password: WebPortalTests.ownerPassword
            )
            let dashboard = try await owner.get("/dashboard")
            #expect(dashboard.text.contains("2 credits used in the last 30 days: "))
            #expect(dashboard.text.contains("</span> 2 on texts, <span class=\"key voice\"></span> 0 on voice."))
            #expect(dashboard.text.contains("2 credits (texts 2, voice 0)"), "each day's bar says what it was")
            #expect(dashboard.text.components(separatedBy: "class=\"bar\"").count - 1 == 30, "one bar per day")
            #expect(dashboard.text.contains("data-testid=\"available\">8<"))
        }
    }

    @Test(arguments: TestDatabase.available)
    func editCreditsSetsTheAllotmentAndMovesTheDifference(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization(mode: .individual)
            try await server.fund(org, credits: 100)
            let dana = try await server.addStaff(org, role: .staff)
            var owner = try await PortalBrowser.signIn(
                server,
                email: WebPortalTests.ownerEmail,
                password: WebPortalTests.ownerPassword
            )
            #expect(try await owner.get("/credits").text.contains("Edit credits"))
            _ = try await owner.post(
                "/credits/staff/\(dana.id)",
                ["credits_per_month": "20", "total": "30", "idempotency_key": "e1"]
            )
            #expect(owner.flash == "notice:Credits saved: total 30, 30 credits added.")
            _ = try await owner.post(
                "/credits/staff/\(dana.id)",
                ["credits_per_month": "20", "total": "12", "idempotency_key": "e2"]
            )
            #expect(owner.flash == "notice:Credits saved: total 12, 18 credits returned to the pool.")
            let wallet =
                try await server.request(.get, "/v1/credits", key: org.ownerKey).object()["wallets"] as? [[String: Any]]
            #expect(wallet?.first { $0["staff_id"] as? String == dana.id }?["available"] as? Int == 12)
            #expect(try await server.pool(org)["available"] as? Int == 88)

            _ = try await owner.post(
                "/credits/staff/\(dana.id)",
                ["credits_per_month": "500", "total": "12", "idempotency_key": "e3"]
            )
            let refusal = try #require(owner.flash)
            #expect(refusal.hasPrefix("error:Credits per Month cannot be greater than"), "\(refusal)")
            let staff = try await server.request(.get, "/v1/staff/\(dana.id)", key: org.ownerKey).object()
            #expect(staff["credits_per_month"] as? Int == 20, "the refused allotment changed nothing")
        }
    }

    @Test(arguments: TestDatabase.available)
    func aDeclinedAutoRenewShowsItsBannerUntilANewCardIsSaved(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 50)
            var owner = try await PortalBrowser.signIn(
                server,
                email: WebPortalTests.ownerEmail,
                password: WebPortalTests.ownerPassword
            )
            _ = try await owner.post(
                "/billing/payment-method",
                ["card.number": "4000 0000 0000 0002", "card.exp_month": "12", "card.exp_year": "2040"]
            )
            _ = try await owner.post(
                "/settings/auto-renew",
                ["enabled": "true", "mode": "immediate", "credits": "200", "threshold": "100"]
            )
            #expect(owner.flash == "notice:Auto-renew is on.")
            let total = try server.services.billing.quote(
                try #require(try await server.services.principals.principal(forKey: org.ownerKey)),
                credits: 200
            ).total.text
            #expect(
                try await owner.get("/settings/sms").text.contains(
                    "Each purchase charges <output id=\"renew-total\" data-quote-total>\(total)</output>"
                )
            )
            #expect(try await server.services.autoRenew.runDue() == 1)
            let banner =
                "We attempted to auto-purchase 200 SMS credits, but the payment was declined, so auto-renew is off."
            #expect(try await owner.get("/dashboard").text.contains(banner))
            _ = try await owner.post(
                "/billing/payment-method",
                ["card.number": "4242 4242 4242 4242", "card.exp_month": "12", "card.exp_year": "2040"]
            )
            #expect(
                !(try await owner.get("/dashboard").text.contains(banner)),
                "the retried charge succeeded and the banner is gone"
            )
            #expect(try await server.pool(org)["available"] as? Int == 250)
        }
    }

    @Test(arguments: TestDatabase.available)
    func theMessengerCenterFiltersReadsAndClosesConversations(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 5)
            try await server.importContacts(org, phones: ["+14155552671", "+14155552672"])
            try await server.inbound(org, from: "+14155552671", "Can I bring a friend?")
            try await server.inbound(org, from: "+14155552672", "Please stop texting me after 9pm")
            var owner = try await PortalBrowser.signIn(
                server,
                email: WebPortalTests.ownerEmail,
                password: WebPortalTests.ownerPassword
            )
            let flagged = try await owner.get("/inbox?status=flagged")
            #expect(flagged.text.contains("Please stop texting me") && !flagged.text.contains("bring a friend"))
            #expect(try await owner.get("/inbox?status=unread").text.contains("bring a friend"))
            let conversations = try await server.request(.get, "/v1/conversations", key: org.ownerKey).list()
            let friend = try #require(
                conversations.first { ($0["last_message"] as? String)?.contains("friend") == true }?["id"] as? String
            )
            let stop = try #require(conversations.first { $0["flagged"] as? Bool == true }?["id"] as? String)

            #expect(try await owner.get("/inbox/\(friend)").text.contains("Can I bring a friend?"))
            #expect(
                !(try await owner.get("/inbox?status=unread").text.contains("bring a friend")),
                "opening a conversation reads it"
            )
            _ = try await owner.post("/inbox/\(friend)/reply", ["body": "Of course!"])
            #expect(owner.flash == "notice:Reply queued; 1 credit reserved.")
            _ = try await owner.post("/inbox/\(friend)", ["status": "closed"])
            #expect(owner.flash == "notice:Conversation closed.")
            #expect(try await owner.get("/inbox?status=closed").text.contains("/inbox/\(friend)"))

            _ = try await owner.post("/inbox/\(stop)", ["flagged": "false"])
            #expect(
                !(try await owner.get("/inbox?status=flagged").text.contains("/inbox/\(stop)")),
                "the opt-out flag was cleared"
            )
            let open = try await server.request(.get, "/v1/conversations/\(stop)", key: org.ownerKey).object()
            #expect(open["status"] as? String == "open", "clearing the flag left the status alone")
        }
    }

    @Test(arguments: TestDatabase.available)
    func staffAreAddedWithAPasswordAndANewPasswordSignsOutEverywhere(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            _ = try await server.makeOrganization()
            var owner = try await PortalBrowser.signIn(
                server,
                email: WebPortalTests.ownerEmail,
                password: WebPortalTests.ownerPassword
            )
            _ = try await owner.post(
                "/staff",
                ["name": "Dana Lee", "email": "dana@example.com", "role": "staff", "password": "short"]
            )
            #expect(owner.flash == "error:Passwords need at least 10 characters.")
            _ = try await owner.post(
                "/staff",
                ["name": "Dana Lee", "email": "dana@example.com", "role": "staff", "password": "dana's own password"]
            )
            #expect(owner.flash == "notice:Dana Lee added as staff; they sign in with dana@example.com.")

            var dana = try await PortalBrowser.signIn(
                server,
                email: "dana@example.com",
                password: "dana's own password"
            )
            var danaElsewhere = try await PortalBrowser.signIn(
                server,
                email: "dana@example.com",
                password: "dana's own password"
            )
            let page = try await dana.get("/staff")
            #expect(
                page.text.contains("Your account") && !page.text.contains("Add a staff member"),
                "staff see their own account only"
            )
            let danaID = try #require(PortalBrowser.firstMatch(#"action="/staff/(stf_[0-9a-f]+)""#, in: page.text))
            _ = try await dana.post(
                "/staff",
                ["name": "Eve", "email": "eve@example.com", "role": "admin", "password": "eve's own password"]
            )
            #expect(dana.flash?.hasPrefix("error:") == true, "staff cannot add staff")

            let unchanged = try await dana.post(
                "/staff/\(danaID)",
                ["password": "a brand new password", "current_password": "a guess"]
            )
            #expect(unchanged.headers[.location] == "/staff")
            #expect(dana.flash == "error:The current password is not right.")
            let changed = try await dana.post(
                "/staff/\(danaID)",
                ["password": "a brand new password", "current_password": "dana's own password"]
            )
            #expect(changed.headers[.location] == "/sign-in")
            #expect(try await danaElsewhere.get("/dashboard").status == .seeOther, "the other device was signed out")
            var danaAgain = try await PortalBrowser.signIn(
                server,
                email: "dana@example.com",
                password: "a brand new password"
            )
            #expect(try await danaAgain.get("/dashboard").status == .ok)

            _ = try await owner.post("/staff/\(danaID)/delete", [:])
            #expect(owner.flash == "notice:Dana Lee removed; their credits went back to the pool.")
            #expect(try await danaAgain.get("/dashboard").status == .seeOther, "a removed staff member's session ends")
        }
    }

    @Test func aBrowserGetsAPageForAnUnknownAddressAndTheAPIGetsJSON() async throws {
        try await TestServer.with(.sqlite) { server in
            var browser = PortalBrowser(server)
            let page = try await browser.get("/no-such-page")
            #expect(page.status == .notFound)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.text.contains("There is nothing at this address."))
            let api = try await server.request(.get, "/v1/no-such-route", key: nil, headers: ["Accept": "text/html"])
            #expect(api.errorCode != nil, "the API answers JSON even to a browser")
        }
    }
}
