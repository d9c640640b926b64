import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

/// Plans from the catalogue, subscribed, renewed, changed and cancelled by the organisation
/// (the PastorsLine page: "You can switch, upgrade, or downgrade at any time and never lose your
/// FRO credits").
@Suite struct SubscriptionTests {
    static let stores = TestDatabase.available

    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    /// Starter: 500 credits a month, $25/month; Growth: 1,000 a month, $45/month or $450/year,
    /// rollover protection $5/month; Pro: 5,000 a month, $180/month with rollover protection.
    static func catalogue(_ server: TestServer) async throws {
        let plans = [
            CataloguePlan(
                id: "starter",
                name: "Starter",
                creditsPerMonth: 500,
                includesRolloverProtection: false,
                prices: [
                    .us: PlanPrices(monthlyCents: 2_500, yearlyCents: nil, rolloverProtectionMonthlyCents: 500),
                    .au: PlanPrices(monthlyCents: 4_000, yearlyCents: nil, rolloverProtectionMonthlyCents: nil),
                ],
                position: 1
            ),
            CataloguePlan(
                id: "growth",
                name: "Growth",
                creditsPerMonth: 1_000,
                includesRolloverProtection: false,
                prices: [
                    .us: PlanPrices(monthlyCents: 4_500, yearlyCents: 45_000, rolloverProtectionMonthlyCents: 500)
                ],
                position: 2
            ),
            CataloguePlan(
                id: "pro",
                name: "Pro",
                creditsPerMonth: 5_000,
                includesRolloverProtection: true,
                prices: [.us: PlanPrices(monthlyCents: 18_000, yearlyCents: nil, rolloverProtectionMonthlyCents: nil)],
                position: 3
            ),
        ]
        for plan in plans { try await server.services.subscriptions.define(plan) }
    }

    static func subscribe(_ server: TestServer, _ org: TestServer.Org, _ plan: String, _ cycle: String = "monthly")
        async throws -> TestResponse
    {
        try await server.request(
            .put,
            "/v1/billing/subscription",
            key: org.ownerKey,
            json: #"{"plan": "\#(plan)", "cycle": "\#(cycle)"}"#
        )
    }

    static func lots(_ server: TestServer, _ org: TestServer.Org) async throws -> [[String: Any]] {
        try #require(try await server.pool(org)["lots"] as? [[String: Any]])
    }

    static func purchases(_ server: TestServer, _ org: TestServer.Org) async throws -> [[String: Any]] {
        try await server.request(.get, "/v1/credits/purchases", key: org.ownerKey).list()
    }

    @Test(arguments: stores)
    func theCatalogueShowsThePlansOnOfferInTheOrganisationsCountry(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            try await SubscriptionTests.catalogue(server)
            let us = try await server.makeOrganization()
            let plans = try await server.request(.get, "/v1/plans", key: us.ownerKey).list()
            #expect(plans.map { $0["id"] as? String } == ["starter", "growth", "pro"])
            let growth = try #require(plans.first { $0["id"] as? String == "growth" })
            let cycles = try #require(growth["cycles"] as? [[String: Any]])
            #expect(cycles.map { $0["cycle"] as? String } == ["monthly", "yearly"])
            #expect(cycles.map { $0["credits"] as? Int } == [1_000, 12_000], "a yearly cycle grants 12 months at once")
            let au = try await server.makeOrganization("Sydney Swim", country: .au)
            let offered = try await server.request(.get, "/v1/plans", key: au.ownerKey).list()
            #expect(offered.map { $0["id"] as? String } == ["starter"], "only plans priced in Australia")
            let starter = try #require((offered.first?["cycles"] as? [[String: Any]])?.first)
            #expect((starter["total"] as? [String: Any])?["text"] as? String == "$44.00", "$40 + 10% GST")
            let bad = try await SubscriptionTests.subscribe(server, au, "growth")
            #expect(
                bad.status == .notFound && bad.errorCode == "plan_not_found" || bad.errorCode == "cycle_not_offered"
            )
        }
    }

    @Test(arguments: stores)
    func aMonthlyPlanChargesEachCycleWithAnInvoiceAndItsCreditsExpireAtTheCycleEnd(_ store: TestDatabase)
        async throws
    {
        try await TestServer.with(store) { server in
            try await SubscriptionTests.catalogue(server)
            let org = try await server.makeOrganization()
            let none = try await SubscriptionTests.subscribe(server, org, "starter")
            #expect(none.status.code == 409 && none.errorCode == "payment_method_required", "\(none.text)")
            #expect(try await SubscriptionTests.purchases(server, org).isEmpty, "nothing recorded")
            _ = try await BillingTests.putCard(server, org, "4000000000000002")
            let declined = try await SubscriptionTests.subscribe(server, org, "starter")
            #expect(declined.status.code == 402 && declined.errorCode == "card_declined", "\(declined.text)")
            #expect(try await server.request(.get, "/v1/billing/subscription", key: org.ownerKey).status == .notFound)
            _ = try await BillingTests.putCard(server, org, "4242424242424242")
            let started = try await SubscriptionTests.subscribe(server, org, "starter")
            #expect(started.status == .ok, "\(started.text)")
            let view = try started.object()
            #expect(view["status"] as? String == "active")
            #expect(view["renews_at"] as? String == "2026-12-18T06:00:00Z", "midnight in Chicago a month on")
            var lots = try await SubscriptionTests.lots(server, org)
            #expect(lots.map { $0["kind"] as? String } == ["plan"])
            #expect(lots.first?["expires_at"] as? String == "2026-12-18T06:00:00Z")
            let first = try #require(try await SubscriptionTests.purchases(server, org).first)
            #expect(first["kind"] as? String == "plan")
            #expect(first["description"] as? String == "Starter plan, monthly: 18 Nov 2026 – 18 Dec 2026")
            let invoiceID = try #require(first["id"] as? String)
            let invoice = try await server.request(.get, "/v1/invoices/\(invoiceID)", key: org.ownerKey).object()
            let line = try #require((invoice["lines"] as? [[String: Any]])?.first)
            #expect(line["description"] as? String == "Starter plan, monthly: 18 Nov 2026 – 18 Dec 2026 — 500 credits")
            #expect((invoice["total"] as? [String: Any])?["text"] as? String == "$25.00")
            #expect(try await server.services.subscriptions.runRenewals() == 0, "the first cycle is paid")

            // The next cycle: charged at the instant it begins, with a second invoice.
            server.clock.set(SubscriptionTests.date("2026-12-18T05:59:59Z"))
            #expect(try await server.services.subscriptions.runRenewals() == 0)
            server.clock.set(SubscriptionTests.date("2026-12-18T06:00:00Z"))
            #expect(try await server.services.subscriptions.runRenewals() == 1)
            #expect(try await server.services.subscriptions.runRenewals() == 0, "renewed once")
            let bought = try await SubscriptionTests.purchases(server, org)
            #expect(bought.count == 3, "the declined first try, the first cycle and the renewal")
            #expect(bought.first?["description"] as? String == "Starter plan, monthly: 18 Dec 2026 – 18 Jan 2027")
            #expect(bought.prefix(2).allSatisfy { $0["invoice_number"] as? String != nil })
            #expect(try await server.services.plans.runExpiry() == 1, "the first cycle's credits expired")
            lots = try await SubscriptionTests.lots(server, org)
            #expect(lots.compactMap { $0["expires_at"] as? String }.contains("2027-01-18T06:00:00Z"))

            // Across the change to daylight time (14 Mar 2027): midnight is 05:00Z from then on.
            for instant in ["2027-01-18T06:00:00Z", "2027-02-18T06:00:00Z", "2027-03-18T05:00:00Z"] {
                server.clock.set(SubscriptionTests.date(instant))
                #expect(try await server.services.subscriptions.runRenewals() == 1, "renewed at \(instant)")
            }
            let latest = try #require(try await SubscriptionTests.purchases(server, org).first)
            #expect(latest["description"] as? String == "Starter plan, monthly: 18 Mar 2027 – 18 Apr 2027")
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func aPlanStartedOnThe31stRenewsOnTheLastDayOfShorterMonthsAndAYearlyPlanOnceAYear(_ store: TestDatabase)
        async throws
    {
        try await TestServer.with(store) { server in
            try await SubscriptionTests.catalogue(server)
            server.clock.set(SubscriptionTests.date("2027-01-31T15:00:00Z"))
            let org = try await server.makeOrganization()
            _ = try await BillingTests.putCard(server, org, "4242424242424242")
            #expect(try await SubscriptionTests.subscribe(server, org, "starter").status == .ok)
            server.clock.set(SubscriptionTests.date("2027-02-28T06:00:00Z"))
            #expect(try await server.services.subscriptions.runRenewals() == 1, "the last day of February")
            server.clock.set(SubscriptionTests.date("2027-03-31T05:00:00Z"))
            #expect(try await server.services.subscriptions.runRenewals() == 1, "back to the 31st, in daylight time")

            let yearly = try await server.makeOrganization("Year Round Choir")
            _ = try await BillingTests.putCard(server, yearly, "4242424242424242")
            let started = try await SubscriptionTests.subscribe(server, yearly, "growth", "yearly")
            #expect(started.status == .ok, "\(started.text)")
            let lots = try await SubscriptionTests.lots(server, yearly)
            #expect(lots.first?["balance"] as? Double == 12_000)
            #expect(lots.first?["expires_at"] as? String == "2028-03-31T05:00:00Z", "yearly NRO credits expire yearly")
            server.clock.set(SubscriptionTests.date("2028-03-30T05:00:00Z"))
            #expect(try await server.services.subscriptions.runRenewals() == 1, "only the monthly plan renews")
            server.clock.set(SubscriptionTests.date("2028-03-31T05:00:00Z"))
            #expect(try await server.services.subscriptions.runRenewals() == 2)
            let fee = try #require(try await SubscriptionTests.purchases(server, yearly).first)
            #expect(
                (fee["price"] as? [String: Any]).flatMap { $0["total"] as? [String: Any] }?["cents"] as? Int == 45_000
            )
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func anUpgradeTakesEffectAtOnceLessTheUnusedShareAndADowngradeWaitsForTheCycleEnd(_ store: TestDatabase)
        async throws
    {
        try await TestServer.with(store) { server in
            try await SubscriptionTests.catalogue(server)
            let org = try await server.makeOrganization()
            _ = try await BillingTests.putCard(server, org, "4242424242424242")
            #expect(try await SubscriptionTests.subscribe(server, org, "starter").status == .ok)
            // Halfway through the 30-day cycle (18 Nov – 18 Dec, local midnights).
            server.clock.set(SubscriptionTests.date("2026-12-03T06:00:00Z"))
            let upgraded = try await SubscriptionTests.subscribe(server, org, "growth")
            #expect(upgraded.status == .ok, "\(upgraded.text)")
            let view = try upgraded.object()
            #expect(view["plan"] as? String == "growth")
            #expect(view["renews_at"] as? String == "2027-01-03T06:00:00Z", "a new cycle from today")
            let fee = try #require(try await SubscriptionTests.purchases(server, org).first)
            #expect(
                fee["description"] as? String
                    == "Growth plan, monthly: 3 Dec 2026 – 3 Jan 2027 (upgrade from Starter, less $12.50 unused of the cycle left)"
            )
            #expect(
                (fee["price"] as? [String: Any]).flatMap { $0["total"] as? [String: Any] }?["cents"] as? Int == 3_250,
                "$45 less half of $25"
            )
            let lots = try await SubscriptionTests.lots(server, org)
            let available = try await server.pool(org)["available"] as? Double
            #expect(available == 1_000, "the Starter cycle's credits ended with it: \(lots)")

            // A downgrade waits for the cycle end; taking it back keeps Growth.
            let scheduled = try await SubscriptionTests.subscribe(server, org, "starter")
            #expect(scheduled.status == .ok)
            let change = try #require(try scheduled.object()["scheduled_change"] as? [String: Any])
            #expect(change["plan"] as? String == "starter" && change["at"] as? String == "2027-01-03T06:00:00Z")
            #expect(try await SubscriptionTests.purchases(server, org).count == 2, "nothing charged for a downgrade")
            server.clock.set(SubscriptionTests.date("2027-01-03T06:00:00Z"))
            #expect(try await server.services.subscriptions.runRenewals() == 1)
            let renewed = try await server.request(.get, "/v1/billing/subscription", key: org.ownerKey).object()
            #expect(renewed["plan"] as? String == "starter" && renewed["credits"] as? Int == 500)
            let last = try #require(try await SubscriptionTests.purchases(server, org).first)
            #expect(
                (last["price"] as? [String: Any]).flatMap { $0["total"] as? [String: Any] }?["cents"] as? Int == 2_500
            )
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func aCancellationKeepsPurchasedCreditsWhilePlanCreditsExpireAtTheExactInstant(_ store: TestDatabase)
        async throws
    {
        try await TestServer.with(store) { server in
            try await SubscriptionTests.catalogue(server)
            let org = try await server.makeOrganization()
            _ = try await BillingTests.putCard(server, org, "4242424242424242")
            #expect(try await BillingTests.buy(server, org, credits: 300, key: "fro-1").status == .created)
            #expect(try await SubscriptionTests.subscribe(server, org, "starter").status == .ok)
            let cancelled = try await server.request(.delete, "/v1/billing/subscription", key: org.ownerKey)
            #expect(cancelled.status == .ok)
            #expect(try cancelled.object()["ends_at"] as? String == "2026-12-18T06:00:00Z")
            #expect(try cancelled.object()["renews_at"] == nil)
            server.clock.set(SubscriptionTests.date("2026-12-18T05:59:59Z"))
            #expect(try await server.pool(org)["available"] as? Double == 800)
            server.clock.set(SubscriptionTests.date("2026-12-18T06:00:00Z"))
            #expect(
                try await server.pool(org)["available"] as? Double == 300,
                "NRO credits stop counting at the instant"
            )
            #expect(try await server.services.subscriptions.runRenewals() == 1)
            #expect(try await server.services.plans.runExpiry() == 1)
            let ended = try await server.request(.get, "/v1/billing/subscription", key: org.ownerKey).object()
            #expect(ended["status"] as? String == "cancelled")
            #expect(try await SubscriptionTests.purchases(server, org).count == 2, "no renewal charged")
            #expect(try await server.pool(org)["available"] as? Double == 300, "FRO credits stay")
            // Coming back later: any plan, and the FRO credits are waiting.
            server.clock.set(SubscriptionTests.date("2027-02-01T18:00:00Z"))
            #expect(try await server.pool(org)["available"] as? Double == 300)
            #expect(try await SubscriptionTests.subscribe(server, org, "growth").status == .ok)
            #expect(try await server.pool(org)["available"] as? Double == 1_300)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func aDeclinedRenewalLeavesThePlanPastDueUntilANewCardPays(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            try await SubscriptionTests.catalogue(server)
            let org = try await server.makeOrganization()
            _ = try await BillingTests.putCard(server, org, "4242424242424242")
            #expect(try await SubscriptionTests.subscribe(server, org, "starter").status == .ok)
            _ = try await BillingTests.putCard(server, org, "4000000000000002")
            server.clock.set(SubscriptionTests.date("2026-12-18T06:00:00Z"))
            #expect(try await server.services.subscriptions.runRenewals() == 1)
            #expect(try await server.services.subscriptions.runRenewals() == 0, "not retried with the same card")
            let view = try await server.request(.get, "/v1/billing/subscription", key: org.ownerKey).object()
            #expect(view["status"] as? String == "past_due")
            #expect(try await server.pool(org)["available"] as? Double == 0, "no plan credits without the fee")
            let log = try await server.request(.get, "/v1/audit-log?action=subscription.declined", key: org.ownerKey)
                .list()
            #expect(
                log.first?["message"] as? String
                    == "The Starter plan's renewal was declined (Your card was declined.); no plan credits were added. Update the payment method under billing: the charge is retried."
            )
            let notices = try await server.request(.get, "/v1/notices", key: org.ownerKey).list()
            #expect(notices.contains { $0["code"] as? String == "subscription_past_due" }, "\(notices)")

            _ = try await BillingTests.putCard(server, org, "4242424242424242")
            let recovered = try await server.request(.get, "/v1/billing/subscription", key: org.ownerKey).object()
            #expect(recovered["status"] as? String == "active")
            #expect(try await server.pool(org)["available"] as? Double == 500)
            let after = try await server.request(.get, "/v1/notices", key: org.ownerKey).list()
            #expect(!after.contains { $0["code"] as? String == "subscription_past_due" })
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func rolloverProtectionIsAPaidAddOnThatKeepsPlanCreditsWhileItRuns(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            try await SubscriptionTests.catalogue(server)
            let org = try await server.makeOrganization()
            _ = try await BillingTests.putCard(server, org, "4242424242424242")
            let none = try await server.request(.put, "/v1/billing/rollover-protection", key: org.ownerKey)
            #expect(none.errorCode == "no_subscription")
            #expect(try await SubscriptionTests.subscribe(server, org, "starter").status == .ok)
            let started = try await server.request(.put, "/v1/billing/rollover-protection", key: org.ownerKey)
            #expect(started.status == .ok, "\(started.text)")
            #expect(try started.object()["rollover_protection"] as? String == "add_on")
            #expect(try await SubscriptionTests.lots(server, org).allSatisfy { $0["expires_at"] == nil })
            let fee = try #require(try await SubscriptionTests.purchases(server, org).first)
            #expect(fee["kind"] as? String == "rollover_protection" && fee["credits"] as? Int == 0)
            // The next cycle charges the plan and the add-on; its credits never expire.
            server.clock.set(SubscriptionTests.date("2026-12-18T06:00:00Z"))
            #expect(try await server.services.subscriptions.runRenewals() == 1)
            let kinds = try await SubscriptionTests.purchases(server, org).prefix(2).compactMap {
                $0["kind"] as? String
            }
            #expect(Set(kinds) == ["plan", "rollover_protection"])
            #expect(try await server.pool(org)["available"] as? Double == 1_000, "both cycles' credits count")
            let stopped = try await server.request(.delete, "/v1/billing/rollover-protection", key: org.ownerKey)
            #expect(try stopped.object()["rollover_protection"] as? String == "none")
            server.clock.set(SubscriptionTests.date("2027-01-18T06:00:00Z"))
            #expect(try await server.services.subscriptions.runRenewals() == 1)
            let newest = try await SubscriptionTests.lots(server, org).compactMap { $0["expires_at"] as? String }
            #expect(newest == ["2027-02-18T06:00:00Z"], "credits granted after it stopped expire again")
            let included = try await server.makeOrganization("Pro Church")
            _ = try await BillingTests.putCard(server, included, "4242424242424242")
            #expect(try await SubscriptionTests.subscribe(server, included, "pro").status == .ok)
            let again = try await server.request(.put, "/v1/billing/rollover-protection", key: included.ownerKey)
            #expect(again.errorCode == "rollover_protection_included")
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func onlyOwnersAndBillingUsersChangeThePlan(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            try await SubscriptionTests.catalogue(server)
            let org = try await server.makeOrganization()
            _ = try await BillingTests.putCard(server, org, "4242424242424242")
            let staff = try await server.addStaff(org, role: .staff)
            let refused = try await server.request(
                .put,
                "/v1/billing/subscription",
                key: staff.key,
                json: #"{"plan": "starter"}"#
            )
            #expect(refused.status == .forbidden)
            let other = try await server.makeOrganization("Other Org")
            _ = try await BillingTests.putCard(server, other, "4242424242424242")
            #expect(try await SubscriptionTests.subscribe(server, other, "growth").status == .ok)
            let mine = try await server.request(.get, "/v1/billing/subscription", key: org.ownerKey)
            #expect(mine.status == .notFound, "another organisation's plan is not ours")
            let billing = try await server.addStaff(org, role: .billing)
            let bought = try await server.request(
                .put,
                "/v1/billing/subscription",
                key: billing.key,
                json: #"{"plan": "starter", "cycle": "weekly"}"#
            )
            #expect(bought.status == .badRequest || bought.status.code == 422)
            #expect(bought.errorField == "cycle")
            #expect(try await SubscriptionTests.purchases(server, org).isEmpty, "bad input charges nothing")
        }
    }
}
