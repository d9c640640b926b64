import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

@Suite struct BillingTests {
    static let stores = TestDatabase.available

    @discardableResult
    static func putCard(_ server: TestServer, _ org: TestServer.Org, _ number: String) async throws -> TestResponse {
        try await server.request(
            .put,
            "/v1/billing/payment-method",
            key: org.ownerKey,
            json: #"{"card": {"number": "\#(number)", "exp_month": 12, "exp_year": 2040}}"#
        )
    }

    static func buy(
        _ server: TestServer,
        _ org: TestServer.Org,
        credits: Int,
        key: String,
        wallet: String? = nil,
        as apiKey: String? = nil
    ) async throws -> TestResponse {
        var body: [String: Any] = ["credits": credits]
        if let wallet { body["wallet"] = wallet }
        return try await server.request(
            .post,
            "/v1/credits/purchases",
            key: apiKey ?? org.ownerKey,
            json: try jsonText(body),
            headers: ["Idempotency-Key": key]
        )
    }

    @Test(arguments: stores)
    func anAustralianOrganisationBuysCreditsAndGetsATaxInvoiceWithGST(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization("Koala Swim School", country: .au)
            let card = try await BillingTests.putCard(server, org, "4242 4242 4242 4242")
            #expect(card.status == .ok, "\(card.text)")
            #expect(
                (try card.object()["payment_method"] as? [String: Any])?["description"] as? String == "visa ending 4242"
            )
            #expect(!card.text.contains("4242 4242"), "the card number is never stored or echoed")
            _ = try await server.request(
                .patch,
                "/v1/billing/details",
                key: org.ownerKey,
                json:
                    #"{"legal_name": "Koala Swim School Pty Ltd", "tax_id": "ABN 51 824 753 556", "address": "1 Beach Rd\nBondi NSW 2026"}"#
            )
            let quote = try await server.request(.get, "/v1/credits/purchases/quote?credits=100", key: org.ownerKey)
                .object()
            #expect((quote["total"] as? [String: Any])?["text"] as? String == "$8.80")

            let bought = try await BillingTests.buy(server, org, credits: 100, key: "first-purchase")
            #expect(bought.status == .created, "\(bought.text)")
            let purchase = try bought.object()
            let id = try #require(purchase["id"] as? String)
            #expect(purchase["status"] as? String == "succeeded")
            #expect(try await server.pool(org)["posted"] as? Double == 100)
            let lots = try #require(try await server.pool(org)["lots"] as? [[String: Any]])
            #expect(
                lots.map { $0["kind"] as? String } == ["purchased"],
                "purchased credits are their own never-expiring lot"
            )
            #expect(lots.first?["expires_at"] == nil)

            let invoice = try await server.request(.get, "/v1/invoices/\(id)", key: org.ownerKey).object()
            #expect(invoice["title"] as? String == "Tax invoice")
            #expect(invoice["number"] as? String == purchase["invoice_number"] as? String)
            let tax = try #require(invoice["tax"] as? [String: Any])
            #expect(tax["name"] as? String == "GST")
            #expect(tax["rate"] as? String == "10%")
            #expect((tax["amount"] as? [String: Any])?["text"] as? String == "$0.80")
            #expect((invoice["subtotal"] as? [String: Any])?["cents"] as? Int == 800)
            #expect((invoice["total"] as? [String: Any])?["cents"] as? Int == 880)
            #expect((invoice["buyer"] as? [String: Any])?["tax_id"] as? String == "ABN 51 824 753 556")
            let page = try await server.request(.get, "/v1/invoices/\(id)?format=html", key: org.ownerKey).text
            for text in [
                "<h1>Tax invoice</h1>", "GST (10%)", "$0.80", "$8.80", "Koala Swim School Pty Ltd", "Bondi NSW 2026",
                "visa ending 4242",
            ] {
                #expect(page.contains(text), "the printable invoice shows \(text)")
            }
            // Details changed later do not rewrite an issued invoice.
            _ = try await server.request(
                .patch,
                "/v1/billing/details",
                key: org.ownerKey,
                json: #"{"legal_name": "Renamed Pty Ltd"}"#
            )
            let again = try await server.request(.get, "/v1/invoices/\(id)", key: org.ownerKey).object()
            #expect((again["buyer"] as? [String: Any])?["name"] as? String == "Koala Swim School Pty Ltd")

            let log = try await server.request(.get, "/v1/audit-log?action=credits.purchased", key: org.ownerKey).list()
                .compactMap { $0["message"] as? String }
            #expect(
                log == [
                    "Purchased 100 SMS credits for $8.80 (invoice \(purchase["invoice_number"] as? String ?? "")) into the pool. Balance 100."
                ]
            )
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func aDeclinedCardOrInsufficientFundsAddsNothing(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            for (number, code) in [
                ("4000 0000 0000 0002", "card_declined"), ("4000 0000 0000 9995", "insufficient_funds"),
            ] {
                try await BillingTests.putCard(server, org, number)
                let refused = try await BillingTests.buy(server, org, credits: 500, key: "try-\(number)")
                #expect(refused.status.code == 402, "\(refused.text)")
                #expect(refused.errorCode == code)
                #expect(refused.text.contains("No credits were added"))
            }
            #expect(try await server.pool(org)["posted"] as? Double == 0)
            let purchases = try await server.request(.get, "/v1/credits/purchases", key: org.ownerKey).list()
            #expect(purchases.map { $0["status"] as? String } == ["failed", "failed"])
            #expect(purchases.allSatisfy { $0["invoice"] is NSNull || $0["invoice"] == nil })
            let log = try await server.request(.get, "/v1/audit-log?action=credits.purchase_failed", key: org.ownerKey)
                .list()
            #expect(
                log.first?["message"] as? String
                    == "Purchase of 500 SMS credits for $15.00 failed: Your card was declined. No credits added."
            )
            #expect(try await server.services.stores.billing.sandboxChargeCount(succeeded: true) == 0)
        }
    }

    @Test(arguments: stores)
    func badPurchasesAreRefusedAndChangeNothing(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let noMethod = try await BillingTests.buy(server, org, credits: 100, key: "k1")
            #expect(noMethod.status == .conflict)
            #expect(noMethod.errorCode == "payment_method_required")
            try await BillingTests.putCard(server, org, "4242424242424242")
            let tooFew = try await BillingTests.buy(server, org, credits: 99, key: "k2")
            #expect(tooFew.status == .unprocessableContent)
            #expect(tooFew.errorCode == "purchase_below_minimum")
            let noKey = try await server.request(
                .post,
                "/v1/credits/purchases",
                key: org.ownerKey,
                json: #"{"credits": 100}"#
            )
            #expect(noKey.errorCode == "idempotency_key_required")
            let fractional = try await server.request(
                .post,
                "/v1/credits/purchases",
                key: org.ownerKey,
                json: #"{"credits": 100.5}"#,
                headers: ["Idempotency-Key": "k3"]
            )
            #expect(fractional.status.code >= 400 && fractional.status.code < 500)
            let staff = try await server.addStaff(org, role: .staff)
            let forbidden = try await BillingTests.buy(server, org, credits: 100, key: "k4", as: staff.key)
            #expect(forbidden.status == .forbidden)
            let cardByStaff = try await server.request(
                .put,
                "/v1/billing/payment-method",
                key: staff.key,
                json: #"{"card": {"number": "4242424242424242", "exp_month": 1, "exp_year": 2040}}"#
            )
            #expect(cardByStaff.status == .forbidden)
            let badNumber = try await BillingTests.putCard(server, org, "4242 4242 4242 4241")
            #expect(badNumber.errorCode == "invalid_number")
            let both = try await server.request(
                .put,
                "/v1/billing/payment-method",
                key: org.ownerKey,
                json: #"{"token": "x", "card": {"number": "4242424242424242", "exp_month": 1, "exp_year": 2040}}"#
            )
            #expect(both.errorCode == "payment_method_ambiguous")
            #expect(try await server.pool(org)["posted"] as? Double == 0)
            #expect(try await server.request(.get, "/v1/credits/purchases", key: org.ownerKey).list().isEmpty)
            #expect(try await server.services.stores.billing.sandboxChargeCount(succeeded: true) == 0)
        }
    }

    @Test(arguments: stores)
    func aRepeatedIdempotencyKeyReturnsTheFirstPurchaseAndChargesOnce(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await BillingTests.putCard(server, org, "4242424242424242")
            let first = try await BillingTests.buy(server, org, credits: 200, key: "same")
            let second = try await BillingTests.buy(server, org, credits: 200, key: "same")
            #expect(first.status == .created)
            #expect(second.status == .ok)
            #expect(try second.object()["replayed"] as? Bool == true)
            #expect(try first.object()["id"] as? String == second.object()["id"] as? String)
            let different = try await BillingTests.buy(server, org, credits: 300, key: "same")
            #expect(different.status == .conflict)
            #expect(different.errorCode == "idempotency_conflict")
            #expect(try await server.pool(org)["posted"] as? Double == 200)
            #expect(try await server.services.stores.billing.sandboxChargeCount(succeeded: true) == 1)
        }
    }

    @Test(arguments: stores)
    func aChargeWhoseAnswerWasLostIsCreditedExactlyOnceByReconciliation(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            // The Sandbox takes the money for this card but the first answer never arrives: the
            // same state as a server that crashed between the charge and the credit.
            try await BillingTests.putCard(server, org, "4000 0000 0000 0077")
            let lost = try await BillingTests.buy(server, org, credits: 100, key: "storm")
            #expect(lost.status == .serviceUnavailable, "\(lost.text)")
            #expect(lost.errorCode == "payment_unconfirmed")
            #expect(try await server.pool(org)["posted"] as? Double == 0, "no credit before the charge is confirmed")
            #expect(try await server.services.stores.billing.sandboxChargeCount(succeeded: true) == 1)

            #expect(try await server.services.billing.reconcile() == 0, "a purchase is given time to finish on its own")
            server.clock.advance(BillingService.reconcileAfter + 1)
            #expect(try await server.services.billing.reconcile() == 1)
            #expect(try await server.services.billing.reconcile() == 0)
            #expect(try await server.pool(org)["posted"] as? Double == 100)

            let retried = try await BillingTests.buy(server, org, credits: 100, key: "storm")
            #expect(retried.status == .ok)
            #expect(try retried.object()["status"] as? String == "succeeded")
            #expect(try await server.pool(org)["posted"] as? Double == 100)
            #expect(
                try await server.services.stores.billing.sandboxChargeCount(succeeded: true) == 1,
                "the card was charged once"
            )
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func creditsCanBeBoughtIntoAStaffWallet(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization(mode: .individual)
            let staff = try await server.addStaff(org, role: .staff)
            try await BillingTests.putCard(server, org, "4242424242424242")
            let bought = try await BillingTests.buy(server, org, credits: 150, key: "wallet", wallet: staff.id)
            #expect(bought.status == .created, "\(bought.text)")
            #expect(try bought.object()["wallet"] as? String == staff.id)
            let wallets = try #require(
                try await server.request(.get, "/v1/credits", key: org.ownerKey).object()["wallets"] as? [[String: Any]]
            )
            let wallet = try #require(wallets.first { $0["staff_id"] as? String == staff.id })
            #expect(wallet["posted"] as? Double == 150)
            #expect(try await server.pool(org)["posted"] as? Double == 0)
        }
    }

    @Test(arguments: stores)
    func theBillingStatementShowsWhereCreditsCameFromWithRunningSubtotals(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization(mode: .individual)
            let staff = try await server.addStaff(org, role: .staff)
            try await server.fund(org, credits: 10)
            try await BillingTests.putCard(server, org, "4242424242424242")
            let bought = try await BillingTests.buy(server, org, credits: 100, key: "statement")
            let purchaseID = try #require(try bought.object()["id"] as? String)
            _ = try await server.request(
                .post,
                "/v1/credits/transfers",
                key: org.ownerKey,
                json: #"{"from": "pool", "to": "\#(staff.id)", "credits": 30}"#,
                headers: ["Idempotency-Key": "t1"]
            )
            _ = try await server.services.credits.adjust(
                org.id,
                credits: Credits(credits: -5),
                reason: "correction",
                actor: .system
            )
            try await server.importContacts(org, phones: ["+14155550123"])
            _ = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["+14155550123"], "body": "Hi", "override_sending_hours": true}"#
            )

            let lines = try await server.request(.get, "/v1/billing/transactions", key: org.ownerKey).list()
            #expect(
                lines.map { $0["type"] as? String } == ["adjustment", "purchase", "transfer", "adjustment"],
                "messages are not billing lines"
            )
            #expect(lines.map { $0["credits"] as? Double } == [10, 100, 30, -5])
            #expect(lines.map { $0["credits_subtotal"] as? Double } == [10, 110, 110, 105])
            #expect(
                lines.map { ($0["amount_subtotal"] as? [String: Any])?["text"] as? String } == [
                    "$0.00", "$3.00", "$3.00", "$3.00",
                ]
            )
            #expect(lines[1]["invoice"] as? String == "/v1/invoices/\(purchaseID)")
            #expect(lines[2]["wallet"] as? String == staff.id)
            let csv = try await server.request(.get, "/v1/billing/transactions?format=csv", key: org.ownerKey).text
            let rows = csv.split(whereSeparator: \.isNewline)
            #expect(
                rows.first == "time,type,description,wallet,credits,amount,credits_subtotal,amount_subtotal,invoice"
            )
            #expect(rows.count == 5)
            #expect(
                rows[2].contains(",purchase,") && rows[2].contains(",100,$3.00,110,$3.00,/v1/invoices/\(purchaseID)")
            )
        }
    }
}
