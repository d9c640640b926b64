import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import TestSupport
import Testing

/// The Organisation page (display name, billing details), paying by bank account, the credits
/// pop-up once per sign-in, the optional organisation sign-up, and refusals inside the layout.
@Suite struct WebOrganizationTests {
    static let stores = TestDatabase.available
    static let ownerEmail = "owner@brightstarsgym.example"
    static let ownerPassword = "correct horse battery"

    func owner(_ server: TestServer) async throws -> PortalBrowser {
        try await PortalBrowser.signIn(
            server,
            email: WebOrganizationTests.ownerEmail,
            password: WebOrganizationTests.ownerPassword
        )
    }

    /// A staff member with a password, signed in.
    func member(
        _ server: TestServer,
        _ org: TestServer.Org,
        role: Role,
        email: String,
        permissions: [Permission]? = nil
    ) async throws -> (id: String, browser: PortalBrowser) {
        let added = try await server.addStaff(org, role: role, email: email, permissions: permissions)
        let password = "\(role.rawValue)'s long password"
        _ = try await server.request(
            .patch,
            "/v1/staff/\(added.id)",
            key: org.ownerKey,
            json: try jsonText(["password": password])
        )
        return (added.id, try await PortalBrowser.signIn(server, email: email, password: password))
    }

    func organizationName(_ server: TestServer, _ org: TestServer.Org) async throws -> String {
        try #require(try await server.services.stores.organizations.organization(org.id)).name
    }

    /// A field the API leaves out or sends as null.
    func unset(_ value: Any?) -> Bool { value == nil || value is NSNull }

    func billing(_ server: TestServer, _ org: TestServer.Org) async throws -> [String: Any] {
        try await server.request(.get, "/v1/billing", key: org.ownerKey).object()
    }

    /// Buys credits through the page and returns the invoice page's text.
    func buyAndReadInvoice(_ browser: inout PortalBrowser, _ server: TestServer, _ org: TestServer.Org, credits: Int)
        async throws -> String
    {
        let page = try await browser.get("/credits/buy")
        let key = try #require(PortalBrowser.firstMatch(#"name="idempotency_key" value="([0-9a-f]+)""#, in: page.text))
        let bought = try await browser.post("/credits/buy", ["credits": "\(credits)", "idempotency_key": key])
        #expect(bought.status == .seeOther, "\(bought.text)")
        let purchases = try await server.request(.get, "/v1/credits/purchases", key: org.ownerKey).list()
        let id = try #require(purchases.first?["id"] as? String)
        return try await browser.get("/invoices/\(id)").text
    }

    func lastReply(_ server: TestServer) async throws -> String? {
        try await server.services.database.read { sql in
            try await sql.raw(
                "SELECT body FROM messages WHERE direction = 'outbound' ORDER BY created_at DESC, id DESC"
            ).first()?.decode(column: "body", as: String.self)
        }
    }

    @Test(arguments: stores)
    func theDisplayNameIsTheAccountInRepliesAndTheBuyerOnInvoices(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            var owner = try await owner(server)
            let page = try await owner.get("/settings/organization")
            #expect(page.status == .ok)
            #expect(page.text.contains(#"<a href="/settings/organization" aria-current="page">Organisation</a>"#))
            #expect(page.text.contains(#"value="Bright Stars Gym""#))

            let renamed = try await owner.post("/settings/organization", ["name": "  Bright Stars Athletics "])
            #expect(renamed.status == .seeOther)
            #expect(owner.flash == "notice:The organisation is now called Bright Stars Athletics.")
            #expect(try await organizationName(server, org) == "Bright Stars Athletics")
            let after = try await owner.get("/settings/organization")
            #expect(after.text.contains(#"<span class="org">Bright Stars Athletics</span>"#), "the header follows")
            #expect(after.text.contains("This is Bright Stars Athletics. For help, contact Bright Stars Athletics"))

            try await server.inbound(org, from: "+14155550177", "HELP")
            #expect(
                try await lastReply(server)
                    == "This is Bright Stars Athletics. For help, contact Bright Stars Athletics directly. Msg & data rates may apply. To opt out, reply STOP."
            )
            let audit = try await server.request(.get, "/v1/audit-log?action=organization", key: org.ownerKey).list()
            #expect(
                audit.contains {
                    $0["message"] as? String == "Organisation renamed from Bright Stars Gym to Bright Stars Athletics."
                }
            )

            _ = try await owner.post(
                "/billing/payment-method",
                ["card.number": "4242 4242 4242 4242", "card.exp_month": "12", "card.exp_year": "2040"]
            )
            let invoice = try await buyAndReadInvoice(&owner, server, org, credits: 100)
            #expect(invoice.contains("<strong>Bright Stars Athletics</strong>"), "no legal name: the display name")
        }
    }

    @Test(arguments: stores)
    func theAPIRenamesWithTheSameRule(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let clerk = try await server.addStaff(org, role: .staff)
            let refused = try await server.request(.patch, "/v1/organization", key: clerk.key, json: #"{"name": "X"}"#)
            #expect(refused.status == .forbidden)
            let blank = try await server.request(.patch, "/v1/organization", key: org.ownerKey, json: #"{"name": " "}"#)
            #expect(blank.status == .unprocessableContent)
            let unknown = try await server.request(
                .patch,
                "/v1/organization",
                key: org.ownerKey,
                json: #"{"nam": "X"}"#
            )
            #expect(unknown.status == .unprocessableContent || unknown.status == .badRequest)
            #expect(try await organizationName(server, org) == "Bright Stars Gym")
            let renamed = try await server.request(
                .patch,
                "/v1/organization",
                key: org.ownerKey,
                json: #"{"name": "Bright Stars Athletics"}"#
            )
            #expect(renamed.status == .ok)
            #expect(try renamed.object()["name"] as? String == "Bright Stars Athletics")
            let read = try await server.request(.get, "/v1/organization", key: org.ownerKey)
            #expect(try read.object()["name"] as? String == "Bright Stars Athletics")
        }
    }

    @Test(arguments: stores)
    func billingDetailsFromThePageAppearOnTheNextInvoice(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            var owner = try await owner(server)
            let saved = try await owner.post(
                "/settings/organization/billing",
                [
                    "legal_name": "Bright Stars Gym LLC", "tax_id": "12-3456789",
                    "address": "12 Main Street\nSpringfield, IL 62701", "email": "accounts@brightstars.example",
                ]
            )
            #expect(saved.status == .seeOther)
            #expect(owner.flash == "notice:Billing details saved; the next tax invoice shows them.")
            let details = try await billing(server, org)
            #expect(details["legal_name"] as? String == "Bright Stars Gym LLC")
            #expect(details["tax_id"] as? String == "12-3456789")
            #expect(details["email"] as? String == "accounts@brightstars.example")
            #expect(try await owner.get("/settings/organization").text.contains(#"value="Bright Stars Gym LLC""#))

            _ = try await owner.post(
                "/billing/payment-method",
                ["card.number": "4242 4242 4242 4242", "card.exp_month": "12", "card.exp_year": "2040"]
            )
            let invoice = try await buyAndReadInvoice(&owner, server, org, credits: 100)
            #expect(invoice.contains("<strong>Bright Stars Gym LLC</strong>"))
            #expect(invoice.contains("Tax number: 12-3456789"))
            #expect(invoice.contains("<div>12 Main Street</div>"))
            #expect(invoice.contains("<div>Springfield, IL 62701</div>"))
            #expect(invoice.contains("accounts@brightstars.example"))
        }
    }

    @Test(arguments: stores)
    func refusedFormsKeepWhatWasTypedAndChangeNothing(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            var owner = try await owner(server)
            let long = String(repeating: "x", count: 201)
            let tooLong = try await owner.post("/settings/organization", ["name": long])
            #expect(tooLong.status == .unprocessableContent)
            #expect(tooLong.text.contains(#"value="\#(long)""#), "the name typed is kept")
            #expect(tooLong.text.contains(#"role="alert""#))
            let empty = try await owner.post("/settings/organization", ["name": "   "])
            #expect(empty.status == .unprocessableContent)
            #expect(try await organizationName(server, org) == "Bright Stars Gym")

            let badEmail = try await owner.post(
                "/settings/organization/billing",
                [
                    "legal_name": "Bright Stars Gym LLC", "tax_id": "12-3456789", "address": "",
                    "email": "accounts at gym",
                ]
            )
            #expect(badEmail.status == .unprocessableContent)
            #expect(badEmail.text.contains(#"value="Bright Stars Gym LLC""#))
            #expect(badEmail.text.contains(#"value="accounts at gym""#))
            #expect(unset(try await billing(server, org)["legal_name"]), "nothing was saved")

            let badBank = try await owner.post(
                "/billing/payment-method",
                [
                    "kind": "bank_account", "bank_account.routing_number": "11000",
                    "bank_account.account_number": "000987654321", "bank_account.holder_name": "Olive Owner",
                ]
            )
            #expect(badBank.status == .unprocessableContent)
            #expect(badBank.text.contains("The routing or account number is not valid."))
            #expect(badBank.text.contains(#"value="Olive Owner""#))
            #expect(badBank.text.contains(#"value="11000""#))
            #expect(!badBank.text.contains("000987654321"), "the account number is not shown again")
            #expect(unset(try await billing(server, org)["payment_method"]))
        }
    }

    @Test(arguments: stores)
    func aBankAccountSavedOnThePagePaysForAPurchase(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            var owner = try await owner(server)
            let page = try await owner.get("/credits/buy")
            #expect(page.text.contains("routing number 110000000 with account 000123456789 is charged"))
            let saved = try await owner.post(
                "/billing/payment-method",
                [
                    "kind": "bank_account", "bank_account.routing_number": "110000000",
                    "bank_account.account_number": "000123456789", "bank_account.holder_name": "Bright Stars Gym",
                ]
            )
            #expect(saved.status == .seeOther)
            #expect(owner.flash == "notice:Payment method saved: STRIPE TEST BANK ending 6789.")
            let method = try #require(try await billing(server, org)["payment_method"] as? [String: Any])
            #expect(method["kind"] as? String == "bank_account")
            #expect(try await owner.get("/credits/buy").text.contains("Charged to STRIPE TEST BANK ending 6789."))
            let invoice = try await buyAndReadInvoice(&owner, server, org, credits: 150)
            #expect(invoice.contains("Paid with STRIPE TEST BANK ending 6789"))
            #expect(try await server.pool(org)["available"] as? Int == 150)
        }
    }

    @Test(arguments: stores)
    func staffWithoutThePermissionAreRefusedByTheServerInsideTheLayout(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            var clerk = try await member(server, org, role: .staff, email: "clerk@example.com").browser
            let page = try await clerk.get("/settings/organization")
            #expect(page.status == .forbidden)
            #expect(page.text.contains(#"<nav class="main-nav""#), "a refusal page keeps the navigation")
            #expect(page.text.contains("Not available to you"))
            #expect(!page.text.contains(#"href="/settings/organization""#), "no link to a page they cannot open")
            #expect(try await clerk.post("/settings/organization", ["name": "Taken Over"]).status == .forbidden)
            let billing = try await clerk.post(
                "/settings/organization/billing",
                ["legal_name": "Taken Over LLC", "tax_id": "", "address": "", "email": ""]
            )
            #expect(billing.status == .forbidden)
            #expect(billing.text.contains(#"<nav class="main-nav""#))
            let bank = try await clerk.post(
                "/billing/payment-method",
                [
                    "kind": "bank_account", "bank_account.routing_number": "110000000",
                    "bank_account.account_number": "000123456789", "bank_account.holder_name": "Mallory",
                ]
            )
            #expect(bank.status == .forbidden)

            // Billing staff buy credits but do not rename the organisation; the page shows them
            // only the billing form, and the server refuses the other.
            var biller = try await member(server, org, role: .billing, email: "bills@example.com").browser
            let theirs = try await biller.get("/settings/organization")
            #expect(theirs.status == .ok)
            #expect(!theirs.text.contains(#"action="/settings/organization""#))
            #expect(theirs.text.contains(#"action="/settings/organization/billing""#))
            #expect(try await biller.post("/settings/organization", ["name": "Taken Over"]).status == .forbidden)

            #expect(try await organizationName(server, org) == "Bright Stars Gym")
            let details = try await self.billing(server, org)
            #expect(unset(details["legal_name"]) && unset(details["payment_method"]))
        }
    }

    /// Signs in through the form and returns the browser with the first page it lands on.
    func signInLanding(_ server: TestServer, email: String, password: String) async throws
        -> (browser: PortalBrowser, landing: String)
    {
        var browser = PortalBrowser(server)
        let token = try await browser.signInToken()
        let signedIn = try await browser.post("/sign-in", ["_csrf": token, "email": email, "password": password])
        #expect(signedIn.status == .seeOther)
        let landing = try await browser.get("/dashboard").text
        browser.csrf = try #require(PortalBrowser.firstMatch(#"name="csrf-token" content="([0-9a-f]+)""#, in: landing))
        return (browser, landing)
    }

    func setThreshold(_ server: TestServer, _ org: TestServer.Org, _ id: String, _ credits: Int) async throws {
        let patched = try await server.request(
            .patch,
            "/v1/staff/\(id)",
            key: org.ownerKey,
            json: #"{"low_balance_threshold": \#(credits)}"#
        )
        #expect(patched.status == .ok, "\(patched.text)")
    }

    @Test(arguments: stores)
    func buyersSeeTheCreditsPopUpOncePerSignInAndUsersOnlyTheBanner(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            // A brand-new organisation is invited to buy its first credits, not told they are used up.
            var (owner, welcome) = try await signInLanding(
                server,
                email: WebOrganizationTests.ownerEmail,
                password: WebOrganizationTests.ownerPassword
            )
            #expect(welcome.contains(#"<h2 id="credit-popup-title">Buy your first credits</h2>"#))
            #expect(!welcome.contains("used up"))
            #expect(!(try await owner.get("/credits").text.contains("credit-popup")))

            try await server.fund(org, credits: 40)
            let ada = try await server.addStaff(org, role: .admin, email: "ada@example.com")
            let clerk = try await server.addStaff(org, role: .staff, email: "clerk@example.com")
            for (id, password) in [(ada.id, "ada's long password"), (clerk.id, "clerk's long password")] {
                _ = try await server.request(
                    .patch,
                    "/v1/staff/\(id)",
                    key: org.ownerKey,
                    json: try jsonText(["password": password])
                )
                try await setThreshold(server, org, id, 100)
            }
            for round in 1...2 {
                var (admin, landing) = try await signInLanding(
                    server,
                    email: "ada@example.com",
                    password: "ada's long password"
                )
                #expect(landing.contains(#"<h2 id="credit-popup-title">SMS credits are low</h2>"#), "sign-in \(round)")
                for path in ["/credits", "/contacts", "/dashboard"] {
                    let page = try await admin.get(path)
                    #expect(page.text.contains("The organisation&#39;s SMS credit balance is low: 40 credits left"))
                    #expect(!page.text.contains("credit-popup"), "once per sign-in, not on \(path)")
                }
            }
            var (user, first) = try await signInLanding(
                server,
                email: "clerk@example.com",
                password: "clerk's long password"
            )
            #expect(first.contains("SMS credit balance is low"), "users see the banner")
            #expect(!first.contains("credit-popup"), "and never the pop-up")
            #expect(!(try await user.get("/credits").text.contains("credit-popup")))
        }
    }

    @Test(arguments: stores)
    func thePopUpIsADialogWithTheNoticeABuyButtonAndAClose(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 40)
            try await setThreshold(server, org, org.ownerID, 100)
            var (owner, first) = try await signInLanding(
                server,
                email: WebOrganizationTests.ownerEmail,
                password: WebOrganizationTests.ownerPassword
            )
            #expect(first.contains(#"<dialog class="popup" id="credit-popup" open"#))
            #expect(first.contains(#"<h2 id="credit-popup-title">SMS credits are low</h2>"#))
            #expect(
                first.contains(
                    #"<p id="credit-popup-text">The organisation&#39;s SMS credit balance is low: 40 credits left (your alert is set below 100).</p>"#
                )
            )
            #expect(first.contains(#"<a class="button" href="/credits/buy" data-testid="popup-buy">Buy credits</a>"#))
            #expect(first.contains(#"<form method="dialog" class="actions">"#))
            #expect(!(try await owner.get("/dashboard").text.contains("credit-popup")))
        }
    }

    @Test func signUpIsAFlagAndAnEnvironmentVariable() throws {
        func read(_ flags: [String: String], _ environment: [String: String]) throws -> Bool {
            try AppConfiguration(reading: AppConfiguration.reader(flags: flags, environment: environment)).allowSignup
        }
        #expect(try read([:], [:]) == false)
        #expect(try read([:], ["TEXTCREDITS_ALLOW_SIGNUP": "true"]) == true)
        #expect(try read(["allow_signup": "true"], ["TEXTCREDITS_ALLOW_SIGNUP": "false"]) == true)
        #expect(throws: ConfigurationError.self) { try read([:], ["TEXTCREDITS_ALLOW_SIGNUP": "maybe"]) }
    }

    @Test(arguments: stores)
    func signUpIsOffUnlessTheOperatorTurnsItOn(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            var browser = PortalBrowser(server)
            let page = try await browser.get("/sign-up")
            #expect(page.status == .notFound)
            #expect(page.text.contains("There is nothing at this address."))
            let posted = try await browser.post("/sign-up", ["organization_name": "Sneaky"], withToken: false)
            #expect(posted.status == .notFound)
            let signIn = try await browser.get("/sign-in")
            #expect(!signIn.text.contains("/sign-up"))
            let organizations = try await server.services.stores.organizations.organizationIDs()
            #expect(organizations.isEmpty)
        }
    }

    func signUpFields(_ token: String, name: String, email: String, password: String = "a long new password")
        -> [String: String]
    {
        [
            "_csrf": token, "organization_name": name, "country": "AU", "time_zone": "Australia/Sydney",
            "owner_name": "Priya Agent", "email": email, "password": password, "password_again": password,
        ]
    }

    @Sendable static func signUpOn(_ configuration: inout AppConfiguration) { configuration.allowSignup = true }

    @Test(arguments: stores)
    func signUpCreatesTheOrganisationAndItsOwnerAndRefusesTakenEmailsAndFloods(_ store: TestDatabase) async throws {
        try await TestServer.with(store, configure: WebOrganizationTests.signUpOn) { server in
            let existing = try await server.makeOrganization()
            var browser = PortalBrowser(server)
            #expect(try await browser.get("/sign-in").text.contains(#"<a href="/sign-up">"#))
            let form = try await browser.get("/sign-up")
            #expect(form.status == .ok)
            #expect(form.text.contains(#"<option value="AU">Australia</option>"#))
            let token = try #require(PortalBrowser.firstMatch(#"name="_csrf" value="([0-9a-f]+)""#, in: form.text))

            // Refusals keep what was typed (not the passwords) and create nothing.
            var mismatch = signUpFields(token, name: "Harbour Realty", email: "priya@harbour.example")
            mismatch["password_again"] = "a different password"
            let differ = try await browser.post("/sign-up", mismatch)
            #expect(differ.status == .unprocessableContent)
            #expect(differ.text.contains("The two passwords are not the same."))
            #expect(differ.text.contains(#"value="Harbour Realty""#))
            #expect(differ.text.contains(#"<option value="Australia/Sydney" selected>"#))
            #expect(!differ.text.contains("a long new password") && !differ.text.contains("a different password"))
            var wrongZone = signUpFields(token, name: "Harbour Realty", email: "priya@harbour.example")
            wrongZone["time_zone"] = "America/Chicago"
            #expect(try await browser.post("/sign-up", wrongZone).status == .unprocessableContent)
            let taken = try await browser.post(
                "/sign-up",
                signUpFields(token, name: "Harbour Realty", email: WebOrganizationTests.ownerEmail.uppercased())
            )
            #expect(taken.status == .conflict)
            #expect(taken.text.contains("Someone already signs in with this email."))
            #expect(taken.text.contains(#"value="Harbour Realty""#))
            #expect(try await server.services.stores.organizations.organizationIDs() == [existing.id])

            let made = try await browser.post(
                "/sign-up",
                signUpFields(token, name: "Harbour Realty", email: "Priya@Harbour.example")
            )
            #expect(made.status == .seeOther)
            #expect(made.headers[.location] == "/dashboard")
            #expect(browser.cookies["tc_session"] != nil, "the owner is signed in")
            let dashboard = try await browser.get("/dashboard")
            #expect(dashboard.text.contains("Welcome to TextCredits: Harbour Realty is ready"))
            #expect(dashboard.text.contains("Buy your first SMS credits to start texting"))
            #expect(dashboard.text.contains("Buy your first credits"))
            #expect(dashboard.text.contains(#"<span class="tag">test</span>"#), "starts on the Simulator number")
            let owners = try await server.services.stores.organizations.staffMembers(withEmail: "priya@harbour.example")
            let owner = try #require(owners.first)
            #expect(owners.count == 1 && owner.role == .owner && owner.name == "Priya Agent")
            let organization = try #require(
                try await server.services.stores.organizations.organization(owner.organizationID)
            )
            #expect(organization.name == "Harbour Realty" && organization.country == .au)
            #expect(organization.timeZone == "Australia/Sydney" && organization.creditMode == .shared)

            // Counted so far: the taken email and the sign-up. Three more go through, then the address waits.
            for n in 1...3 {
                var other = PortalBrowser(server)
                let page = try await other.get("/sign-up")
                let otherToken = try #require(
                    PortalBrowser.firstMatch(#"name="_csrf" value="([0-9a-f]+)""#, in: page.text)
                )
                let ok = try await other.post(
                    "/sign-up",
                    signUpFields(otherToken, name: "Office \(n)", email: "o\(n)@x.example")
                )
                #expect(ok.status == .seeOther)
            }
            let before = try await server.services.stores.organizations.organizationIDs().count
            let flood = try await browser.post("/sign-up", signUpFields(token, name: "Office 4", email: "o4@x.example"))
            #expect(flood.status == .tooManyRequests)
            #expect(flood.headers[.retryAfter] == "3600")
            #expect(flood.text.contains("Too many organisations were signed up from your address lately."))
            #expect(flood.text.contains(#"value="Office 4""#))
            #expect(try await server.services.stores.organizations.organizationIDs().count == before)
        }
    }
}
