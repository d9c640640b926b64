import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

/// Attacks found by an adversarial review, each with the rule that stops it.
@Suite struct HardeningTests {
    static let stores = TestDatabase.available

    @Test(arguments: [
        "/\t/evil.example/", "/\n/evil.example/", "//evil.example/", "/\\evil.example/", "https://evil.example/", " /x",
    ])
    func signingInNeverRedirectsToAnotherSite(_ next: String) async throws {
        try await TestServer.with(.sqlite) { server in
            _ = try await server.makeOrganization()
            var browser = PortalBrowser(server)
            let token = try await browser.signInToken()
            let signedIn = try await browser.post(
                "/sign-in",
                [
                    "_csrf": token, "email": "owner@brightstarsgym.example", "password": "correct horse battery",
                    "next": next,
                ]
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
                [
                    "_csrf": token, "email": "owner@brightstarsgym.example", "password": "correct horse battery",
                    "next": "/inbox?status=open",
                ]
            )
            #expect(signedIn.headers[.location] == "/inbox?status=open")
        }
    }
}

/// Lengths are counted the way the database counts them (Unicode scalars), so what validation
/// lets through always fits its column: no 500 for an emoji name.
@Suite struct LengthRulesTests {
    static let stores = TestDatabase.available
    static let family = "👨‍👩‍👧‍👦"  // one character on screen, seven scalars

    @Test(arguments: stores)
    func anEmojiNameOverTheLimitIsRefusedNotAServerError(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let long = String(repeating: LengthRulesTests.family, count: 50)  // 50 on screen, 350 scalars
            for (path, body) in [
                ("/v1/contacts", ["name": long, "phone": "+14155552671"]),
                ("/v1/staff", ["name": long, "email": "fam@example.com", "role": "staff"]),
            ] {
                let response = try await server.request(.post, path, key: org.ownerKey, json: try jsonText(body))
                #expect(response.status.code == 422, "\(path): \(response.text)")
                #expect(response.errorField == "name")
            }
            let fits = String(repeating: LengthRulesTests.family, count: 28)  // 196 scalars
            let saved = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: try jsonText(["name": fits, "first_name": "Fam", "phone": "+14155552671"])
            )
            #expect(saved.status == .created)
        }
    }

    @Test(arguments: stores)
    func aLongFirstWordIsRefusedAsTheFirstName(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let word = String(repeating: "a", count: 120)
            let response = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: try jsonText(["name": word + " Smith", "phone": "+14155552671"])
            )
            #expect(response.status.code == 422)
            #expect(response.errorField == "first_name")
            let given = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: try jsonText(["name": word + " Smith", "first_name": "Al", "phone": "+14155552671"])
            )
            #expect(given.status == .created, "with a first name given, the long name is fine")
        }
    }

    /// schemathesis sent a group name starting with a vertical tab; trimming took it away and the
    /// group was made, though the published pattern forbids control characters anywhere.
    @Test(arguments: stores)
    func aControlCharacterAtEitherEndOfANameIsRefusedNotTrimmed(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            for name in ["\u{0B}d", "d\t", "\nd"] {
                let group = try await server.request(
                    .post,
                    "/v1/groups",
                    key: org.ownerKey,
                    json: try jsonText(["name": name])
                )
                #expect(group.status == .unprocessableContent, "\(group.text)")
                #expect(group.text.contains("must not contain control characters"))
                let contact = try await server.request(
                    .post,
                    "/v1/contacts",
                    key: org.ownerKey,
                    json: try jsonText(["name": name, "phone": "+14155550101"])
                )
                #expect(contact.status == .unprocessableContent, "\(contact.text)")
            }
            let groups = try await server.request(.get, "/v1/groups", key: org.ownerKey)
            #expect(
                try groups.object()["data"] as? [Any] == nil || (try groups.object()["data"] as? [Any])?.isEmpty == true
            )
            let spaced = try await server.request(
                .post,
                "/v1/groups",
                key: org.ownerKey,
                json: try jsonText(["name": "  tumbling "])
            )
            #expect(spaced.status == .created, "spaces around a name are still trimmed")
        }
    }

    @Test(arguments: stores)
    func anImportKeepsItsGoodRowsAndReportsTheBadOnes(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let rows: [[String: Any]] = [
                ["name": "Ana Ortiz", "phone": "+14155550101"],
                ["name": String(repeating: LengthRulesTests.family, count: 50), "phone": "+14155550102"],
                ["name": String(repeating: "b", count: 120), "phone": "+14155550103"],
                ["name": "Ben \u{202E}kraP", "phone": "+14155550104"],
                ["name": "Cara Diaz", "phone": "+14155550105"],
            ]
            let imported = try await server.request(
                .post,
                "/v1/contacts/import",
                key: org.ownerKey,
                json: try jsonText(["contacts": rows])
            )
            #expect(imported.status == .created, "\(imported.text)")
            let result = try imported.object()
            #expect(result["added"] as? Int == 2)
            let errors = try #require(result["errors"] as? [[String: Any]])
            #expect(errors.compactMap { $0["index"] as? Int } == [1, 2, 3])
        }
    }

    @Test(arguments: stores)
    func idempotencyKeysOfUpTo200PrintableASCIICharactersWorkAndOthersAreRefused(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization(mode: .individual)
            try await server.fund(org, credits: 10)
            let staff = try await server.addStaff(org, role: .staff)
            func transfer(_ key: String) async throws -> TestResponse {
                try await server.request(
                    .post,
                    "/v1/credits/transfers",
                    key: org.ownerKey,
                    json: #"{"from": "pool", "to": "\#(staff.id)", "credits": 1}"#,
                    headers: ["Idempotency-Key": key]
                )
            }
            for key in [String(repeating: "k", count: 188), String(repeating: "q", count: 200)] {
                #expect(try await transfer(key).status == .created, "a \(key.count)-character key is accepted")
                #expect(try await transfer(key).status == .ok, "and a repeat returns the first transfer")
            }
            #expect(try await server.pool(org)["available"] as? Double == 8)
            #expect(try await transfer(String(repeating: "k", count: 201)).errorCode == "idempotency_key_required")
            // A header carries bytes: a Latin-1 "é" and a C1 control both arrive as U+FFFD, so two
            // different keys would meet as one. Only printable ASCII is a key.
            for unreadable in ["caf\u{E9}", "k\u{FFFD}", "k\u{85}", "tab\tkey", "   "] {
                #expect(
                    try await transfer(unreadable).errorCode == "idempotency_key_required",
                    "\(unreadable.debugDescription)"
                )
            }
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func aSearchForAPercentSignFindsOnlyPercentSigns(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            _ = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: #"{"name": "Ana Ortiz", "phone": "+14155550101"}"#
            )
            _ = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: #"{"name": "Ben 100% Park", "phone": "+14155550102"}"#
            )
            let percent = try await server.request(.get, "/v1/contacts?search=%25", key: org.ownerKey).list()
            #expect(percent.compactMap { $0["name"] as? String } == ["Ben 100% Park"])
            let underscore = try await server.request(.get, "/v1/contacts?search=_", key: org.ownerKey).list()
            #expect(underscore.isEmpty)
        }
    }
}

/// What each person may read, and the headers every answer carries.
@Suite struct ExposureTests {
    static let stores = TestDatabase.available

    @Test(arguments: stores)
    func aStaffKeyReadsOnlyItsOwnStaffRecordAndNoBrandTaxDetails(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let staff = try await server.addStaff(org, role: .staff)
            let brand = try await server.request(
                .post,
                "/v1/sms/brand",
                key: org.ownerKey,
                json:
                    #"{"legal_name": "Bright Stars LLC", "tax_id": "12-3456789", "website": "https://brightstars.example", "email": "o@brightstars.example", "phone": "+14155550100", "street": "1 Main St", "city": "Austin", "region": "TX", "postal_code": "78701", "vertical": "EDUCATION"}"#
            )
            #expect(brand.status == .created, "\(brand.text)")
            let list = try await server.request(.get, "/v1/staff", key: staff.key).list()
            #expect(list.compactMap { $0["id"] as? String } == [staff.id], "staff see themselves only")
            #expect(try await server.request(.get, "/v1/staff/\(org.ownerID)", key: staff.key).status == .forbidden)
            #expect(try await server.request(.get, "/v1/staff/\(staff.id)", key: staff.key).status == .ok)
            let setup = try await server.request(.get, "/v1/sms/setup", key: staff.key)
            #expect(!setup.text.contains("12-3456789"), "the brand's tax id is for those who manage settings")
            #expect(try await server.request(.get, "/v1/sms/setup", key: org.ownerKey).text.contains("12-3456789"))
            #expect(try await server.request(.get, "/v1/staff", key: org.ownerKey).list().count == 2)
        }
    }

    @Test(arguments: stores)
    func importingWithConsentNeedsToManageSettings(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let staff = try await server.addStaff(org, role: .staff)
            let rows = #"[{"name": "Ana Ortiz", "phone": "+14155550101"}]"#
            let withConsent = try await server.request(
                .post,
                "/v1/contacts/import",
                key: staff.key,
                json: #"{"consent": "opted_in", "contacts": \#(rows)}"#
            )
            #expect(withConsent.status == .forbidden)
            #expect(
                try await server.request(.get, "/v1/contacts", key: org.ownerKey).list().isEmpty,
                "nothing was imported"
            )
            let without = try await server.request(
                .post,
                "/v1/contacts/import",
                key: staff.key,
                json: #"{"contacts": \#(rows)}"#
            )
            #expect(without.status == .created, "a list without consent anyone may bring in")
        }
    }

    @Test func everyAnswerCarriesTheSecurityHeadersAndTheInvoiceHasAPolicy() async throws {
        let https: @Sendable (inout AppConfiguration) -> Void = { $0.publicURL = "https://credits.example" }
        try await TestServer.with(.sqlite, configure: https) { server in
            let org = try await server.makeOrganization()
            for (path, key) in [
                ("/v1/organization", org.ownerKey), ("/v1/nope", org.ownerKey), ("/v1/organization", nil),
                ("/sign-in", nil),
            ] {
                let response = try await server.request(.get, path, key: key)
                #expect(response.headers[.init("X-Content-Type-Options")!] == "nosniff", "\(path)")
                #expect(response.headers[.init("Referrer-Policy")!] == "same-origin", "\(path)")
                #expect(response.headers[.init("Strict-Transport-Security")!]?.hasPrefix("max-age=") == true, "\(path)")
            }
            #expect(
                try await server.request(.get, "/metrics", key: nil).status == .notFound,
                "no metrics token set: metrics are off"
            )
        }
        try await TestServer.with(.sqlite) { server in
            let org = try await server.makeOrganization()
            #expect(
                try await server.request(.get, "/v1/organization", key: org.ownerKey).headers[
                    .init("Strict-Transport-Security")!
                ] == nil,
                "no HSTS over plain http"
            )
            _ = try await server.request(
                .put,
                "/v1/billing/payment-method",
                key: org.ownerKey,
                json: #"{"card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030}}"#
            )
            let bought = try await server.request(
                .post,
                "/v1/credits/purchases",
                key: org.ownerKey,
                json: #"{"credits": 100}"#,
                headers: ["Idempotency-Key": "inv-1"]
            )
            let id = try #require(try bought.object()["id"] as? String)
            let invoice = try await server.request(.get, "/v1/invoices/\(id)?format=html", key: org.ownerKey)
            let policy = try #require(invoice.headers[.init("Content-Security-Policy")!])
            #expect(
                policy.contains("default-src 'none'") && policy.contains("sha256-") && !policy.contains("unsafe-eval")
            )
        }
    }
}

/// A recipient's STOP is undone only by the recipient.
@Suite struct RecipientOptOutTests {
    static let stores = TestDatabase.available

    @Test(arguments: stores)
    func staffCannotOptInANumberWhoseRecipientTextedStop(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            let phone = "+14155552671"
            let created = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: #"{"name": "Ana Ortiz", "phone": "\#(phone)", "consent": "opted_in"}"#
            )
            let id = try #require(try created.object()["id"] as? String)
            try await server.inbound(org, from: phone, "Stop")

            // 1. Opting them in again.
            let consent = try await server.request(
                .post,
                "/v1/contacts/\(id)/consent",
                key: org.ownerKey,
                json: #"{"state": "opted_in"}"#
            )
            #expect(consent.status == .conflict)
            #expect(consent.errorCode == "opted_out_by_recipient")
            // 2. Deleting the contact and adding it again, opted in.
            _ = try await server.request(.delete, "/v1/contacts/\(id)", key: org.ownerKey)
            let again = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: #"{"name": "Ana Ortiz", "phone": "\#(phone)", "consent": "opted_in"}"#
            )
            #expect(again.status == .conflict)
            #expect(again.errorCode == "opted_out_by_recipient")
            #expect(
                try await server.request(.get, "/v1/contacts?search=Ana", key: org.ownerKey).list().isEmpty,
                "nothing was added"
            )
            // 3. Importing the number with consent.
            let imported = try await server.request(
                .post,
                "/v1/contacts/import",
                key: org.ownerKey,
                json:
                    #"{"consent": "opted_in", "contacts": [{"name": "Ben Park", "phone": "+14155550199"}, {"name": "Ana Ortiz", "phone": "\#(phone)"}]}"#
            )
            let errors = try #require(try imported.object()["errors"] as? [[String: Any]])
            #expect(errors.count == 1)
            #expect(errors.first?["index"] as? Int == 1)
            #expect(errors.first?["code"] as? String == "opted_out_by_recipient")

            #expect(try await server.services.stores.contacts.consent(organization: org.id, phone: phone) == .optedOut)
            let send = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["\#(phone)"], "body": "Hi"}"#
            )
            #expect(send.errorCode == "no_eligible_recipients", "nothing goes to them")
            let refusals = try await server.request(
                .get,
                "/v1/audit-log?action=contact.opt_in_refused",
                key: org.ownerKey
            ).list()
            #expect(refusals.count == 3, "each attempt is in the audit log")

            // The recipient can: START opts them back in.
            try await server.inbound(org, from: phone, "START")
            #expect(try await server.services.stores.contacts.consent(organization: org.id, phone: phone) == .optedIn)
        }
    }

    @Test(arguments: stores)
    func anOptOutStaffRecordedCanBeUndoneByStaff(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let created = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: #"{"name": "Ana Ortiz", "phone": "+14155552671", "consent": "opted_in"}"#
            )
            let id = try #require(try created.object()["id"] as? String)
            let out = try await server.request(
                .post,
                "/v1/contacts/\(id)/consent",
                key: org.ownerKey,
                json: #"{"state": "opted_out"}"#
            )
            #expect(out.status == .ok)
            let back = try await server.request(
                .post,
                "/v1/contacts/\(id)/consent",
                key: org.ownerKey,
                json: #"{"state": "opted_in"}"#
            )
            #expect(back.status == .ok, "an opt-out someone on staff recorded (say, asked by phone) is staff's to undo")
        }
    }
}

/// Numbers from outside are range-checked where they enter.
@Suite struct OutsideNumbersTests {
    static let stores = TestDatabase.available

    @Test(arguments: stores)
    func aReportWithAnAbsurdSegmentCountIsRefusedAndChangesNothing(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            try await server.importContacts(org, phones: ["+14155550123"])
            _ = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["+14155550123"], "body": "Hello"}"#
            )
            #expect(try await server.services.dispatcher.runOnce() == 1)
            let row = try #require(
                try await server.services.database.read { sql in
                    try await sql.raw("SELECT id, provider_id FROM messages").first()
                }
            )
            let messageID = try row.decode(column: "id", as: String.self)
            let sid = try row.decode(column: "provider_id", as: String.self)
            let path = "/webhooks/simulator/status?message=\(messageID)"
            for segments in ["9223372036854775807", "-1", "0", "101", "2.5", "lots"] {
                let report = try await server.callback(
                    path,
                    ["MessageSid": sid, "MessageStatus": "delivered", "NumSegments": segments]
                )
                #expect(report.status == .badRequest, "NumSegments \(segments): \(report.text)")
                #expect(report.errorCode == "callback_invalid")
            }
            #expect(try await server.pool(org)["pending"] as? Double == 1, "the hold is untouched")
            let fine = try await server.callback(
                path,
                ["MessageSid": sid, "MessageStatus": "delivered", "NumSegments": "1"]
            )
            #expect(fine.status == .noContent, "the server is still up and takes a real report")
            #expect(try await server.pool(org)["posted"] as? Double == 9)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test func creditsArithmeticSaturatesInsteadOfTrapping() {
        let most = Credits(milli: .max)
        #expect(most + Credits(credits: 1) == most)
        #expect(Credits(milli: .min) - Credits(credits: 1) == Credits(milli: .min))
        #expect(Credits(credits: 1) * Int.max == most)
        #expect(Credits(credits: -1) * Int.max == Credits(milli: .min))
        #expect(-Credits(milli: .min) == most)
        #expect(Credits(credits: 2) * 3 == Credits(credits: 6), "ordinary sums are exact")
    }
}

/// CSV exports: whole, and never a formula.
@Suite struct CSVExportTests {
    static let stores = TestDatabase.available

    /// The cells of a CSV document (RFC 4180 quoting).
    static func cells(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var cell = ""
        var quoted = false
        var iterator = Array(text).makeIterator()
        var pending: Character?
        while let character = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    let next = iterator.next()
                    if next == "\"" {
                        cell.append("\"")
                    } else {
                        quoted = false
                        pending = next
                    }
                } else {
                    cell.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                row.append(cell)
                cell = ""
            } else if character == "\r\n" || character == "\n" {
                row.append(cell)
                rows.append(row)
                row = []
                cell = ""
            } else {
                cell.append(character)
            }
        }
        return rows
    }

    @Test(arguments: stores)
    func aNameThatLooksLikeAFormulaIsWrittenAsText(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 5)
            let staff = try await server.request(
                .post,
                "/v1/staff",
                key: org.ownerKey,
                json: #"{"name": "@SUM(A1:A9)", "email": "sum@example.com", "role": "admin"}"#
            )
            let staffID = try #require(try staff.object()["id"] as? String)
            let key = try await server.request(
                .post,
                "/v1/api-keys",
                key: org.ownerKey,
                json: #"{"name": "=cmd|' /C calc'!A0", "staff_id": "\#(staffID)"}"#
            )
            let staffKey = try #require(try key.object()["api_key"] as? String)
            _ = try await server.request(
                .post,
                "/v1/contacts",
                key: staffKey,
                json: #"{"name": "=HYPERLINK(\"http://evil.example\",\"x\")", "phone": "+14155552671"}"#
            )
            // The contact texts STOP: the audit entry is theirs, named as they were saved, and starts with the name.
            try await server.inbound(org, from: "+14155552671", "STOP")
            for path in [
                "/v1/audit-log?format=csv", "/v1/credits/entries?wallet=pool&format=csv",
                "/v1/billing/transactions?format=csv",
            ] {
                let csv = try await server.request(.get, path, key: org.ownerKey)
                #expect(csv.status == .ok, "\(path): \(csv.text)")
                for cell in CSVExportTests.cells(csv.text).joined() {
                    guard let first = cell.first, "=+-@\t\r".contains(first) else { continue }
                    #expect(Double(cell) != nil, "\(path) has a live formula: \(cell)")
                }
            }
            let audit = try await server.request(.get, "/v1/audit-log?format=csv", key: org.ownerKey).text
            #expect(audit.contains("'=HYPERLINK"), "the contact's name is kept, as text")
        }
    }

    @Test(arguments: stores)
    func anExportHasEveryLineNotJustTheFirstPage(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let records = (0..<1_050).map { index in
                AuditRecord(
                    organization: org.id,
                    actor: .system,
                    action: .creditsAdjusted,
                    message: "Entry \(index).",
                    at: server.clock.now
                )
            }
            try await AuditStore.insert(records, into: server.services.database)
            let csv = try await server.request(.get, "/v1/audit-log?format=csv", key: org.ownerKey)
            #expect(csv.status == .ok)
            let rows = CSVExportTests.cells(csv.text)
            #expect(rows.first == ["time", "actor", "actor_type", "action", "message"])
            #expect(rows.count == 1 + 1 + 1_050, "the header, the organisation's creation and every entry")
            #expect(rows.last?.last == "Entry 1049.")
        }
    }

    @Test func aNegativeNumberStaysANumber() {
        #expect(CSV.line(["-12.5", "+3", "-", "=1+1", "@x", "\tx", "plain"]) == "-12.5,+3,'-,'=1+1,'@x,'\tx,plain\r\n")
    }
}
