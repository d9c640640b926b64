import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

/// The credit model the organisation runs: the monthly fee, buckets, numbers paid in credits,
/// allotment capacity, individual user credits (the Agentbox page), the combined 30-day log,
/// per-user billing lines and spam closure.
@Suite struct CreditModelTests {
    static let stores = TestDatabase.available

    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test(arguments: stores)
    func anAustralianOrganisationWithSMSOnPaysTheMonthlyFeeWithAGSTInvoice(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization("Koala Swim School", country: .au)
            let us = try await server.makeOrganization("Texas Tumblers")
            _ = try await BillingTests.putCard(server, org, "4242424242424242")
            _ = try await BillingTests.putCard(server, us, "4242424242424242")
            #expect(try await server.services.subscriptions.runMonthlyFees() == 0, "no number yet: SMS is off")
            for (number, owner) in [("+61255501234", org.id), ("+14155550199", us.id)] {
                try await server.services.stores.numbers.assign(
                    number,
                    to: owner,
                    kind: "local",
                    provider: "simulator",
                    at: server.clock.now
                )
            }
            #expect(try await server.services.subscriptions.runMonthlyFees() == 1, "only the AU organisation")
            #expect(try await server.services.subscriptions.runMonthlyFees() == 0, "once a month")
            let fee = try #require(try await SubscriptionTests.purchases(server, org).first)
            #expect(fee["kind"] as? String == "monthly_fee")
            #expect(fee["description"] as? String == "Monthly fee: 1 Nov 2026 – 1 Dec 2026")
            let invoice = try await server.request(
                .get,
                "/v1/invoices/\(try #require(fee["id"] as? String))",
                key: org.ownerKey
            ).object()
            #expect(invoice["title"] as? String == "Tax invoice")
            #expect((invoice["tax"] as? [String: Any])?["name"] as? String == "GST")
            #expect((invoice["total"] as? [String: Any])?["text"] as? String == "$11.00", "$10 + 10% GST")
            #expect(try await SubscriptionTests.purchases(server, us).isEmpty)

            // A declined month is audited, shown, and charged again with a new card.
            _ = try await BillingTests.putCard(server, org, "4000000000000002")
            server.clock.set(CreditModelTests.date("2026-12-01T13:00:00Z"))
            #expect(try await server.services.subscriptions.runMonthlyFees() == 1)
            let log = try await server.request(
                .get,
                "/v1/audit-log?action=billing.monthly_fee_failed",
                key: org.ownerKey
            )
            .list()
            #expect(log.count == 1)
            let shown = try await server.request(.get, "/v1/notices", key: org.ownerKey).list()
            #expect(shown.contains { $0["code"] as? String == "monthly_fee_unpaid" }, "\(shown)")
            _ = try await BillingTests.putCard(server, org, "4242424242424242")
            let paid = try await SubscriptionTests.purchases(server, org).filter {
                $0["kind"] as? String == "monthly_fee" && $0["status"] as? String == "succeeded"
            }
            #expect(paid.count == 2, "November's and, retried, December's")
            let after = try await server.request(.get, "/v1/notices", key: org.ownerKey).list()
            #expect(!after.contains { $0["code"] as? String == "monthly_fee_unpaid" })
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func creditBucketsMatchEachPlansMonthlyAmountAndPriceAndNeverExpire(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            try await SubscriptionTests.catalogue(server)
            let org = try await server.makeOrganization()
            _ = try await BillingTests.putCard(server, org, "4242424242424242")
            let bucket = try await server.request(
                .post,
                "/v1/credits/purchases",
                key: org.ownerKey,
                json: #"{"bucket": "growth"}"#,
                headers: ["Idempotency-Key": "bucket-1"]
            )
            #expect(bucket.status == .created, "\(bucket.text)")
            let body = try bucket.object()
            #expect(body["kind"] as? String == "bucket" && body["credits"] as? Int == 1_000)
            #expect(body["description"] as? String == "Growth credit bucket: 1000 SMS credits")
            #expect(
                (body["price"] as? [String: Any]).flatMap { $0["total"] as? [String: Any] }?["cents"] as? Int == 4_500
            )
            let lots = try await SubscriptionTests.lots(server, org)
            #expect(lots.map { $0["kind"] as? String } == ["purchased"] && lots.first?["expires_at"] == nil)
            let both = try await server.request(
                .post,
                "/v1/credits/purchases",
                key: org.ownerKey,
                json: #"{"bucket": "growth", "credits": 100}"#,
                headers: ["Idempotency-Key": "bucket-2"]
            )
            #expect(both.status == .badRequest || both.status.code == 422)
            let unknown = try await server.request(
                .post,
                "/v1/credits/purchases",
                key: org.ownerKey,
                json: #"{"bucket": "platinum"}"#,
                headers: ["Idempotency-Key": "bucket-3"]
            )
            #expect(unknown.errorCode == "bucket_not_found")
            let small = try await BillingTests.buy(server, org, credits: 99, key: "free-1")
            #expect(small.errorCode == "purchase_below_minimum", "a free quantity is at least 100 (iClassPro)")
            #expect(try await BillingTests.buy(server, org, credits: 100, key: "free-2").status == .created)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func eachNumberCostsItsMonthlyCreditsAndTheCapacityLeavesThemOut(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization(mode: .individual)
            try await server.fund(org, credits: 1_000)
            try await server.assignNumbers(
                org,
                ["+14155550101": "local", "+18885550102": "toll_free", "+15552000001": "test"]
            )
            let numbers = try await server.request(.get, "/v1/sms/setup", key: org.ownerKey).object()
            let listed = try #require(numbers["numbers"] as? [[String: Any]])
            #expect(listed.map { $0["monthly_credits"] as? Int } == [125, 125, 0], "\(listed)")
            // The capacity: 1,000 in the pool − 250 for the numbers − what others are given.
            let staff = try await server.addStaff(org, role: .staff)
            let other = try await server.addStaff(org, role: .staff)
            let given = try await server.request(
                .patch,
                "/v1/staff/\(other.id)",
                key: org.ownerKey,
                json: #"{"credits_per_month": 500}"#
            )
            #expect(given.status == .ok, "\(given.text)")
            let tooMuch = try await server.request(
                .patch,
                "/v1/staff/\(staff.id)",
                key: org.ownerKey,
                json: #"{"credits_per_month": 251}"#
            )
            #expect(tooMuch.errorCode == "allotment_too_large")
            #expect(
                (try tooMuch.object()["error"] as? [String: Any])?["message"] as? String
                    == "Credits per Month cannot be greater than 250."
            )
            let capacity = try await server.request(
                .get,
                "/v1/staff/\(staff.id)/credit-capacity",
                key: org.ownerKey
            ).object()
            #expect(capacity["maximum"] as? Double == 250 && capacity["numbers_per_month"] as? Double == 250)
            #expect(capacity["company_credits"] as? Double == 1_000 && capacity["shared"] as? Bool == false)

            // On the next allotment day: the numbers are paid first, then the allotment.
            server.clock.set(CreditModelTests.date("2026-12-01T06:00:00Z"))
            #expect(try await server.services.plans.runMonthly() == 1)
            #expect(try await server.services.plans.runMonthly() == 0)
            let pool = try await server.pool(org)
            #expect(pool["available"] as? Double == 250, "1,000 − 2 × 125 − 500")
            let log = try await server.request(.get, "/v1/audit-log?action=credits.number_charged", key: org.ownerKey)
                .list()
            #expect(log.count == 2)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func admins_AdminPlusAndOwnersShareThePoolAndAdminPlusRanksBetweenOwnerAndAdmin(_ store: TestDatabase)
        async throws
    {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization(mode: .individual)
            let plus = try await server.addStaff(org, role: .adminPlus)
            let admin = try await server.addStaff(org, role: .admin)
            let onPlus = try await server.request(
                .patch,
                "/v1/staff/\(plus.id)",
                key: org.ownerKey,
                json: #"{"credits_per_month": 10}"#
            )
            #expect(onPlus.errorCode == "allotment_for_shared_role")
            #expect(
                (try onPlus.object()["error"] as? [String: Any])?["message"] as? String
                    == "Sam admin_plus is an Admin+ and uses the shared pool (“Shared”): credits per month are given to other staff."
            )
            let outranked = try await server.request(
                .patch,
                "/v1/staff/\(plus.id)",
                key: admin.key,
                json: #"{"name": "Renamed"}"#
            )
            #expect(outranked.status == .forbidden, "an admin cannot change an Admin+")
            let view = try await server.request(.get, "/v1/staff/\(plus.id)", key: plus.key).object()
            #expect(view["role"] as? String == "admin_plus")
        }
    }

    @Test(arguments: stores)
    func switchingToIndividualCreditsAndBackMovesBalancesAsTransfersKeepingExpiry(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let staff = try await server.addStaff(org, role: .staff)
            try await PlanTests.plan(server, org, credits: 300)
            try await server.services.plans.runCycles()
            let refused = try await server.request(
                .put,
                "/v1/organization/credit-mode",
                key: staff.key,
                json: #"{"mode": "individual"}"#
            )
            #expect(refused.status == .forbidden, "only an owner switches")
            let bad = try await server.request(
                .put,
                "/v1/organization/credit-mode",
                key: org.ownerKey,
                json: #"{"mode": "both"}"#
            )
            #expect(bad.errorField == "mode")
            let switched = try await server.request(
                .put,
                "/v1/organization/credit-mode",
                key: org.ownerKey,
                json: #"{"mode": "individual"}"#
            )
            #expect(switched.status == .ok, "\(switched.text)")
            #expect(try switched.object()["credit_mode"] as? String == "individual")
            let wallets = try #require(try switched.object()["wallets"] as? [[String: Any]])
            #expect(wallets.map { $0["staff_id"] as? String } == [staff.id], "the owner shares the pool")
            let moved = try await server.request(
                .post,
                "/v1/credits/transfers",
                key: org.ownerKey,
                json: #"{"from": "pool", "to": "\#(staff.id)", "credits": 120}"#,
                headers: ["Idempotency-Key": "to-staff"]
            )
            #expect(moved.status == .created, "\(moved.text)")
            let back = try await server.request(
                .put,
                "/v1/organization/credit-mode",
                key: org.ownerKey,
                json: #"{"mode": "shared"}"#
            )
            #expect(back.status == .ok, "\(back.text)")
            let pool = try await server.pool(org)
            #expect(pool["available"] as? Double == 300, "the wallet's 120 came back")
            let lots = try #require(pool["lots"] as? [[String: Any]])
            #expect(Set(lots.compactMap { $0["expires_at"] as? String }) == ["2026-12-18T06:00:00Z"], "expiry kept")
            let log = try await server.request(
                .get,
                "/v1/audit-log?action=organization.credit_mode_changed",
                key: org.ownerKey
            ).list()
            #expect(
                Set(log.compactMap { $0["message"] as? String }) == [
                    "Switched to shared credits: 120 credits moved from staff wallets to the pool.",
                    "Switched to individual user credits: 1 staff got a wallet of their own; the pool stays as the system credits.",
                ]
            )
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func usersBuyIntoTheirOwnWalletAndTransferTheirOwnCreditsBackWhileMasterUsersMoveAny(_ store: TestDatabase)
        async throws
    {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization(mode: .individual)
            _ = try await BillingTests.putCard(server, org, "4242424242424242")
            let agent = try await server.addStaff(org, role: .staff)
            let colleague = try await server.addStaff(org, role: .staff)
            let own = try await server.request(
                .post,
                "/v1/credits/purchases",
                key: agent.key,
                json: try jsonText([
                    "credits": 200, "wallet": agent.id,
                    "billing_details": ["name": "Agent Smith Realty", "email": "agent@example.com"],
                ]),
                headers: ["Idempotency-Key": "own-1"]
            )
            #expect(own.status == .created, "\(own.text)")
            let invoice = try await server.request(
                .get,
                "/v1/invoices/\(try #require(try own.object()["id"] as? String))",
                key: org.ownerKey
            ).object()
            #expect((invoice["buyer"] as? [String: Any])?["name"] as? String == "Agent Smith Realty")
            let system = try await BillingTests.buy(server, org, credits: 100, key: "sys-1", as: agent.key)
            #expect(system.status == .forbidden, "system credits are for master users")
            let theirs = try await BillingTests.buy(
                server,
                org,
                credits: 100,
                key: "other-1",
                wallet: colleague.id,
                as: agent.key
            )
            #expect(theirs.status == .forbidden)
            let returned = try await server.request(
                .post,
                "/v1/credits/transfers",
                key: agent.key,
                json: #"{"from": "\#(agent.id)", "to": "pool", "credits": 50}"#,
                headers: ["Idempotency-Key": "back-1"]
            )
            #expect(returned.status == .created, "\(returned.text)")
            let taken = try await server.request(
                .post,
                "/v1/credits/transfers",
                key: agent.key,
                json: #"{"from": "pool", "to": "\#(agent.id)", "credits": 50}"#,
                headers: ["Idempotency-Key": "take-1"]
            )
            #expect(taken.status == .forbidden, "only master users move system credits to users")
            let master = try await server.addStaff(org, role: .staff, permissions: [.manageUserCredits])
            let given = try await server.request(
                .post,
                "/v1/credits/transfers",
                key: master.key,
                json: #"{"from": "pool", "to": "\#(colleague.id)", "credits": 30}"#,
                headers: ["Idempotency-Key": "give-1"]
            )
            #expect(given.status == .created, "\(given.text)")
            #expect(
                try await BillingTests.buy(server, org, credits: 100, key: "sys-2", as: master.key).status == .created
            )

            // The combined last-30-days log: everything the viewer may manage, filterable, as CSV.
            let mine = try await server.request(.get, "/v1/credits/entries?since=30d", key: agent.key).list()
            #expect(Set(mine.compactMap { $0["account"] as? String }) == [agent.id], "a user sees their own account")
            #expect(mine.map { $0["amount"] as? Double } == [200, -50])
            let all = try await server.request(.get, "/v1/credits/entries?since=30d", key: org.ownerKey).list()
            #expect(Set(all.compactMap { $0["account"] as? String }) == ["pool", agent.id, colleague.id])
            #expect(all.count == 6, "200 in, 50 back (two sides), 30 given (two sides), 100 bought: \(all)")
            let one = try await server.request(
                .get,
                "/v1/credits/entries?since=30d&wallet=\(colleague.id)",
                key: org.ownerKey
            ).list()
            #expect(one.map { $0["amount"] as? Double } == [30])
            let csv = try await server.request(.get, "/v1/credits/entries?since=30d&format=csv", key: org.ownerKey)
            #expect(csv.text.hasPrefix("time,account,operation,description,credits,balance,counterparty,reference,by"))
            #expect(csv.text.contains(",Sam staff,"), "lines name their account")

            // Billing transactions read as the seed's example, not as 0.
            let lines = try await server.request(.get, "/v1/billing/transactions", key: org.ownerKey).list()
            let descriptions = lines.compactMap { $0["description"] as? String }
            #expect(descriptions.contains("Removed 50 credits from Sam staff: 200 → 150"), "\(descriptions)")
            #expect(descriptions.contains("Added 30 credits to Sam staff: 0 → 30"))
            let removal = try #require(lines.first { ($0["description"] as? String)?.hasPrefix("Removed") == true })
            #expect(removal["credits"] as? Double == -50 && removal["wallet_balance_after"] as? Double == 150)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func markingAnAccountAsSpamRemovesEvenPurchasedCredits(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            try await SubscriptionTests.catalogue(server)
            let org = try await server.makeOrganization()
            _ = try await BillingTests.putCard(server, org, "4242424242424242")
            #expect(try await BillingTests.buy(server, org, credits: 300, key: "fro").status == .created)
            #expect(try await SubscriptionTests.subscribe(server, org, "starter").status == .ok)
            let removed = try await server.services.credits.closeAsSpam(org.id, reason: "bulk spam", actor: .system)
            #expect(removed == Credits(credits: 800))
            #expect(try await server.pool(org)["available"] as? Double == 0)
            let log = try await server.request(.get, "/v1/audit-log?action=organization.marked_spam", key: org.ownerKey)
                .list()
            #expect(
                log.first?["message"] as? String
                    == "Account closed as spam (bulk spam): 800 credits removed, the plan ended."
            )
            let again = try await BillingTests.buy(server, org, credits: 100, key: "after")
            #expect(again.errorCode == "organization_marked_spam")
            #expect(try await server.verifyLedger() == [])
        }
    }
}
