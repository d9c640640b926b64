import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

@Suite struct AutoRenewTests {
    static let stores = TestDatabase.available

    static func autoRenew(
        _ server: TestServer,
        _ org: TestServer.Org,
        credits: Int,
        threshold: Int,
        enabled: Bool = true
    ) async throws -> TestResponse {
        try await server.request(
            .put,
            "/v1/credits/auto-renew",
            key: org.ownerKey,
            json: #"{"enabled": \#(enabled), "credits": \#(credits), "threshold": \#(threshold), "mode": "immediate"}"#
        )
    }

    static func autoRenewPurchases(_ server: TestServer, _ org: TestServer.Org) async throws -> [[String: Any]] {
        try await server.request(.get, "/v1/credits/purchases", key: org.ownerKey).list().filter {
            $0["kind"] as? String == "auto_renew"
        }
    }

    @Test(arguments: stores)
    func aHundredConcurrentSendsCrossingTheThresholdBuyExactlyOnce(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 150)
            let phones = (0..<100).map { "+1415555\(String(format: "%04d", 3000 + $0))" }
            try await server.importContacts(org, phones: phones)
            try await BillingTests.putCard(server, org, "4242424242424242")
            #expect(try await AutoRenewTests.autoRenew(server, org, credits: 500, threshold: 100).status == .ok)

            // The worker runs alongside the sends, as it does in a server: a purchase can land
            // while other sends still see the old balance.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, phone) in phones.enumerated() {
                    if index % 10 == 0 { group.addTask { try await server.services.autoRenew.runDue() } }
                    group.addTask {
                        let sent = try await server.request(
                            .post,
                            "/v1/messages",
                            key: org.ownerKey,
                            json: #"{"to": ["\#(phone)"], "body": "Pool closed today", "override_sending_hours": true}"#
                        )
                        #expect(sent.status == .created, "\(sent.text)")
                    }
                }
                try await group.waitForAll()
            }
            try await server.services.autoRenew.runDue()
            #expect(try await server.services.autoRenew.runDue() == 0)
            #expect(try await AutoRenewTests.autoRenewPurchases(server, org).count == 1, "one crossing, one purchase")
            #expect(try await server.pool(org)["available"] as? Double == 550)
            #expect(try await server.services.stores.billing.sandboxChargeCount(succeeded: true) == 1)

            // Back above the threshold the setting re-arms: the next crossing buys again.
            _ = try await server.services.credits.adjust(
                org.id,
                credits: Credits(credits: -460),
                reason: "correction",
                actor: .system
            )
            await server.services.autoRenew.check(org.id)
            #expect(try await server.services.autoRenew.runDue() == 1)
            #expect(try await AutoRenewTests.autoRenewPurchases(server, org).count == 2)
            #expect(try await server.pool(org)["available"] as? Double == 590)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func aCrossingIsCountedOnceUntilTheBalanceIsBackAboveTheThreshold(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 150)
            try await BillingTests.putCard(server, org, "4242424242424242")
            #expect(try await AutoRenewTests.autoRenew(server, org, credits: 500, threshold: 100).status == .ok)
            _ = try await server.services.credits.adjust(
                org.id,
                credits: Credits(credits: -60),
                reason: "spent",
                actor: .system
            )
            // Every spend below the threshold checks; only the first counts as a crossing, even
            // one that observed the low balance late (a direct trip stands for it).
            for _ in 0..<5 { await server.services.autoRenew.check(org.id) }
            #expect(try await server.services.stores.autoRenew.trip(org.id, at: server.clock.now) == nil)
            #expect(try await server.services.stores.autoRenew.settings(org.id)?.crossings == 1)
            #expect(try await server.services.autoRenew.runDue() == 1)
            #expect(
                try await server.services.stores.autoRenew.trip(org.id, at: server.clock.now) != nil,
                "after the purchase the balance is above the threshold and the setting is armed again"
            )
        }
    }

    @Test(arguments: stores)
    func aDeclinedAutoRenewTurnsItOffUntilThePaymentMethodIsUpdated(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 50)
            try await BillingTests.putCard(server, org, "4000 0000 0000 0002")
            // Enabling below the threshold buys at once: the declined card turns auto-renew off.
            #expect(try await AutoRenewTests.autoRenew(server, org, credits: 200, threshold: 100).status == .ok)
            #expect(try await server.services.autoRenew.runDue() == 1)
            let settings = try await server.request(.get, "/v1/credits/auto-renew", key: org.ownerKey).object()
            #expect(settings["enabled"] as? Bool == false)
            #expect(settings["failed_purchase"] is String)
            let log = try await server.request(
                .get,
                "/v1/audit-log?action=credits.auto_renew_failed",
                key: org.ownerKey
            ).list()
            #expect(
                log.compactMap { $0["message"] as? String } == [
                    "SMS credit auto-renew failed. Auto-renew disabled; see SETTINGS>SETUP>GENERAL SETTINGS>SMS for more information."
                ]
            )
            let notices = try await server.request(.get, "/v1/notices", key: org.ownerKey).list()
            #expect(notices.map { $0["code"] as? String } == ["auto_renew_failed"])
            #expect(try await server.pool(org)["available"] as? Double == 50)

            // A new card retries the charge; on success auto-renew is on again.
            try await BillingTests.putCard(server, org, "4242 4242 4242 4242")
            #expect(try await server.pool(org)["available"] as? Double == 250)
            let restored = try await server.request(.get, "/v1/credits/auto-renew", key: org.ownerKey).object()
            #expect(restored["enabled"] as? Bool == true)
            #expect(restored["failed_purchase"] == nil)
            #expect(try await server.request(.get, "/v1/notices", key: org.ownerKey).list().isEmpty)
            #expect(
                try await server.services.autoRenew.runDue() == 0,
                "the retry was the purchase; nothing else is due"
            )
            #expect(
                try await AutoRenewTests.autoRenewPurchases(server, org).map { $0["status"] as? String } == [
                    "succeeded", "failed",
                ]
            )
        }
    }

    @Test(arguments: stores)
    func badAutoRenewSettingsAreRefused(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            #expect(
                try await AutoRenewTests.autoRenew(server, org, credits: 200, threshold: 100).errorCode
                    == "payment_method_required"
            )
            try await BillingTests.putCard(server, org, "4242424242424242")
            #expect(
                try await AutoRenewTests.autoRenew(server, org, credits: 50, threshold: 100).errorCode
                    == "purchase_below_minimum"
            )
            let weekly = try await server.request(
                .put,
                "/v1/credits/auto-renew",
                key: org.ownerKey,
                json: #"{"enabled": true, "credits": 200, "threshold": 100, "mode": "weekly"}"#
            )
            #expect(weekly.status == .unprocessableContent)
            let staff = try await server.addStaff(org, role: .staff)
            let forbidden = try await server.request(
                .put,
                "/v1/credits/auto-renew",
                key: staff.key,
                json: #"{"enabled": true, "credits": 200, "threshold": 100}"#
            )
            #expect(forbidden.status == .forbidden)
            #expect(
                try await server.request(.get, "/v1/credits/auto-renew", key: org.ownerKey).object()["enabled"] as? Bool
                    == false
            )
        }
    }

    @Test(arguments: stores)
    func lowAndEmptyBalancesShowNotices(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            // "A brand-new organisation with no credits sees 'Buy your first credits' rather than an
            // alarming 'used up'" (the portal issue); used-up is for credits that came and went.
            #expect(
                try await server.request(.get, "/v1/notices", key: org.ownerKey).list().map { $0["code"] as? String }
                    == ["no_credits_yet"]
            )
            try await server.fund(org, credits: 20)
            #expect(try await server.request(.get, "/v1/notices", key: org.ownerKey).list().isEmpty)
            _ = try await server.request(
                .patch,
                "/v1/staff/\(org.ownerID)",
                key: org.ownerKey,
                json: #"{"low_balance_threshold": 25}"#
            )
            let notices = try await server.request(.get, "/v1/notices", key: org.ownerKey).list()
            #expect(notices.map { $0["code"] as? String } == ["low_balance"])
            #expect(
                notices.first?["message"] as? String
                    == "The organisation's SMS credit balance is low: 20 credits left (your alert is set below 25)."
            )
        }
    }

    @Test(arguments: stores)
    func monthlyAutoRenewBuysWhatWasUsedOnTheFirstAt10CentralAcrossDST(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            // The test clock reads 18 Nov 2026.
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 300)
            try await BillingTests.putCard(server, org, "4242424242424242")
            let phones = (0..<650).map { "+1415\(300 + $0 / 1000)\(String(format: "%04d", 5000 + $0 % 1000))" }
            try await server.importContacts(org, phones: phones)
            let set = try await server.request(
                .put,
                "/v1/credits/auto-renew",
                key: org.ownerKey,
                json: #"{"enabled": true, "credits": 200, "threshold": 100, "mode": "monthly"}"#
            )
            #expect(set.status == .ok, "\(set.text)")
            #expect(
                try await server.pool(org)["overdraft_limit"] as? Double == 2000,
                "sending continues on a bounded overdraft line"
            )

            func send(_ numbers: ArraySlice<String>) async throws {
                let sent = try await server.request(
                    .post,
                    "/v1/messages",
                    key: org.ownerKey,
                    json: try jsonText(["to": Array(numbers), "body": "Snow day", "override_sending_hours": true])
                )
                #expect(sent.status == .created, "\(sent.text)")
            }
            try await send(phones[0..<250])  // 50 left: 50 below the threshold → 200 will be bought
            try await send(phones[250..<450])  // −150: 250 below → 400 will be bought
            #expect(try await AutoRenewTests.net(server, org) == -150, "150 credits into the overdraft line")
            let notices = try await server.request(.get, "/v1/mail", key: org.ownerKey).list().compactMap {
                $0["subject"] as? String
            }
            #expect(
                notices == ["Auto-renew will purchase 400 SMS credits", "Auto-renew will purchase 200 SMS credits"]
            )

            server.clock.set(PlanTests.date("2026-12-01T15:59:59Z"))  // 09:59:59 CST
            #expect(try await server.services.autoRenew.runDue() == 0)
            server.clock.set(PlanTests.date("2026-12-01T16:00:00Z"))  // 10:00 CST
            #expect(try await server.services.autoRenew.runDue() == 1)
            #expect(try await server.services.autoRenew.runDue() == 0, "one purchase a month")
            #expect(try await AutoRenewTests.net(server, org) == 250)
            let purchases = try await AutoRenewTests.autoRenewPurchases(server, org)
            #expect(purchases.map { $0["credits"] as? Int } == [400])

            // Daylight saving time: in April 10:00 Central is 15:00 UTC.
            try await send(phones[450..<650])  // 50 left
            server.clock.set(PlanTests.date("2027-04-01T14:59:59Z"))
            #expect(try await server.services.autoRenew.runDue() == 0)
            server.clock.set(PlanTests.date("2027-04-01T15:00:00Z"))
            #expect(try await server.services.autoRenew.runDue() == 1)
            #expect(
                try await AutoRenewTests.autoRenewPurchases(server, org).map { $0["credits"] as? Int } == [200, 400]
            )
            #expect(try await AutoRenewTests.net(server, org) == 250)
            #expect(try await server.verifyLedger() == [])
        }
    }

    /// A server that stops between claiming the month and charging (or between charging and
    /// marking the month made) used to skip that month silently: the claim is now a lease the
    /// next run takes over, and the same key and amount make a repeat find the first purchase.
    @Test(arguments: stores)
    func aStopBetweenTheMonthlyClaimAndTheChargeIsTakenOverAndNeverChargesTwice(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 300)
            try await BillingTests.putCard(server, org, "4242424242424242")
            let phones = (0..<250).map { "+1415555\(String(format: "%04d", 6000 + $0))" }
            try await server.importContacts(org, phones: phones)
            let set = try await server.request(
                .put,
                "/v1/credits/auto-renew",
                key: org.ownerKey,
                json: #"{"enabled": true, "credits": 200, "threshold": 100, "mode": "monthly"}"#
            )
            #expect(set.status == .ok, "\(set.text)")
            let sent = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: try jsonText(["to": phones, "body": "Snow day", "override_sending_hours": true])
            )
            #expect(sent.status == .created, "\(sent.text)")  // 50 left: 200 will be bought

            let first = PlanTests.date("2026-12-01T16:00:00Z")  // 10:00 Central on the 1st
            server.clock.set(first)
            let month = try #require(MonthlyRenewal.purchase(containing: first)?.month)
            // A run claims the month and stops there.
            let stopped = try await server.services.stores.autoRenew.claimMonth(
                org.id,
                month: month,
                at: first,
                until: first.addingTimeInterval(600)
            )
            #expect(stopped == .init(decidedCredits: nil))
            #expect(try await server.services.autoRenew.runDue() == 0, "the claim is held for its lease")
            #expect(try await AutoRenewTests.autoRenewPurchases(server, org).isEmpty)

            server.clock.advance(601)
            #expect(try await server.services.autoRenew.runDue() == 1, "taken over after the lease")
            #expect(try await AutoRenewTests.autoRenewPurchases(server, org).map { $0["credits"] as? Int } == [200])
            #expect(try await server.services.autoRenew.runDue() == 0, "one purchase a month")

            // A run that charged but stopped before marking the month made is taken over too,
            // and finds the purchase it made instead of charging again.
            try await server.services.database.transaction { sql in
                try await sql.raw(
                    "UPDATE auto_renew SET purchased_month = NULL, claim_until = \(bind: first.milliseconds) WHERE organization_id = \(bind: org.id.rawValue)"
                ).run()
            }
            server.clock.advance(60)
            _ = try await server.services.autoRenew.runDue()
            #expect(
                try await AutoRenewTests.autoRenewPurchases(server, org).map { $0["credits"] as? Int } == [200],
                "the same purchase, not a second charge"
            )
            #expect(try await server.services.autoRenew.runDue() == 0)
            #expect(try await server.verifyLedger() == [])
        }
    }

    /// The pool's balance net of holds, negative when it runs on the overdraft line.
    static func net(_ server: TestServer, _ org: TestServer.Org) async throws -> Double {
        let pool = try await server.pool(org)
        return (pool["posted"] as? Double ?? .nan) - (pool["pending"] as? Double ?? .nan)
    }
}
