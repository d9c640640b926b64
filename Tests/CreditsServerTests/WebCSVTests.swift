import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

/// The portal's CSV files read like their pages: people's names (not `staff:stf_…`), the same
/// order (newest first), the organisation's local time beside UTC, and a file name that says
/// what the file is.
@Suite struct WebCSVTests {
    static let stores = TestDatabase.available

    static func rows(_ text: String) -> [[String]] {
        text.split(separator: "\r\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
    }

    static func filename(_ response: TestResponse) -> String? {
        response.headers[.contentDisposition].flatMap {
            PortalBrowser.firstMatch(#"filename="([^"]+)""#, in: $0)
        }
    }

    @Test(arguments: stores)
    func theCreditsLogFileHasNamesLocalTimeAndThePagesOrder(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization(mode: .individual)
            try await server.fund(org, credits: 10)
            let staff = try await server.addStaff(org, role: .staff)
            server.clock.advance(60)
            let moved = try await server.request(
                .post,
                "/v1/credits/transfers",
                key: org.ownerKey,
                json: #"{"from": "pool", "to": "\#(staff.id)", "credits": 3, "note": "For Thursday"}"#,
                headers: ["Idempotency-Key": "csv-transfer-1"]
            )
            #expect(moved.status == .created, "\(moved.text)")
            var owner = try await PortalBrowser.signIn(
                server,
                email: "owner@brightstarsgym.example",
                password: "correct horse battery"
            )
            let page = try await owner.get("/credits/log?wallet=pool")
            let csv = try await owner.get("/credits/log.csv?wallet=pool")
            #expect(csv.status == .ok)
            let name = try #require(WebCSVTests.filename(csv))
            #expect(
                PortalBrowser.firstMatch(
                    #"^(bright-stars-gym-credits-system-credits-last-30-days-\d{4}-\d{2}-\d{2}\.csv)$"#,
                    in: name
                )
                    != nil,
                "\(name)"
            )
            let rows = WebCSVTests.rows(csv.text)
            #expect(
                rows.first
                    == [
                        "time (America/Chicago)", "time (UTC)", "account", "description", "operation", "credits",
                        "balance", "by", "reference",
                    ]
            )
            try #require(rows.count == 3, "\(csv.text)")
            #expect(rows[1][5] == "-3", "the newest line comes first, as on the page")
            #expect(rows[2][5] == "10")
            #expect(rows[1][2] == "System credits", "each line names its account")
            #expect(rows[1][7] == "API key First key", "who acted by name, not key:… or staff:stf_…")
            #expect(!csv.text.contains("staff:stf_") && !csv.text.contains("key:"))
            // The local time is the page's day and hour; UTC is beside it.
            #expect(rows[1][1].hasSuffix("Z") && rows[1][0].count == 19)
            let firstOnPage = try #require(
                PortalBrowser.firstMatch(#"<tbody>\s*<tr><td>[^<]+</td><td>([^<]+)</td>"#, in: page.text)
            )
            #expect(rows[1][3] == firstOnPage, "the first line of the file is the first line of the page")

            let wallet = try await owner.get("/credits/log.csv?wallet=\(staff.id)")
            #expect(WebCSVTests.filename(wallet)?.hasPrefix("bright-stars-gym-credits-sam-staff-last-30-days-") == true)

            _ = try await server.makeOrganization("Other Office")
            var stranger = try await PortalBrowser.signIn(
                server,
                email: "owner@otheroffice.example",
                password: "correct horse battery"
            )
            #expect(try await stranger.get("/credits/log.csv?wallet=\(staff.id)").status == .notFound)
        }
    }

    @Test(arguments: stores)
    func theAuditAndBillingFilesSayWhatTheyAreAndFollowTheirPages(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            server.clock.advance(60)
            try await server.fund(org, credits: 5)
            var owner = try await PortalBrowser.signIn(
                server,
                email: "owner@brightstarsgym.example",
                password: "correct horse battery"
            )
            let audit = try await owner.get("/audit-log.csv?from=2020-01-01")
            #expect(audit.status == .ok)
            #expect(WebCSVTests.filename(audit)?.hasPrefix("bright-stars-gym-audit-log-from-2020-01-01-") == true)
            let auditRows = WebCSVTests.rows(audit.text)
            #expect(auditRows.first == ["time (America/Chicago)", "time (UTC)", "who", "what happened", "action"])
            let auditPage = try await owner.get("/audit-log?from=2020-01-01")
            let firstWho = try #require(
                PortalBrowser.firstMatch(#"<tbody><tr><td>[^<]+</td><td>([^<]+)</td>"#, in: auditPage.text)
            )
            #expect(auditRows.count > 1 && auditRows[1][2] == firstWho, "\(audit.text)")

            let billing = try await owner.get("/billing/transactions.csv")
            #expect(billing.status == .ok)
            #expect(WebCSVTests.filename(billing)?.hasPrefix("bright-stars-gym-billing-transactions-") == true)
            let billingRows = WebCSVTests.rows(billing.text)
            #expect(billingRows.first?.prefix(3) == ["time (America/Chicago)", "time (UTC)", "what"])
            if billingRows.count > 2 {
                #expect(billingRows[1][1] >= billingRows[2][1], "newest first, as on the page")
            }
        }
    }
}
