import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

@Suite struct PlanTests {
    static let stores = TestDatabase.available

    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    static func plan(
        _ server: TestServer,
        _ org: TestServer.Org,
        credits: Int64 = 100,
        rollover: Bool = false,
        startsAt: Date? = nil
    ) async throws {
        _ = try await server.services.plans.setPlan(
            org.id,
            name: "Starter",
            credits: credits,
            cycle: .monthly,
            rolloverProtection: rollover,
            startsAt: startsAt,
            active: true,
            actor: .system
        )
    }

    @Test(arguments: stores)
    func planCreditsAreGrantedOncePerCycleAndExpireAtTheExactInstant(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            // The test clock reads 2026-11-18 05:06 in Chicago: the cycle is 18 Nov 00:00 – 18 Dec 00:00 local.
            let org = try await server.makeOrganization()
            try await PlanTests.plan(server, org)
            #expect(try await server.services.plans.runCycles() == 1)
            #expect(try await server.services.plans.runCycles() == 0, "a cycle is granted once")
            let lots = try #require(try await server.pool(org)["lots"] as? [[String: Any]])
            #expect(lots.map { $0["kind"] as? String } == ["plan"])
            #expect(lots.first?["expires_at"] as? String == "2026-12-18T06:00:00Z")
            let current = try await server.request(.get, "/v1/billing/plan", key: org.ownerKey).object()
            #expect((current["current_period"] as? [String: Any])?["end"] as? String == "2026-12-18T06:00:00Z")

            try await server.importContacts(org, phones: ["+14155550123"])
            let send = #"{"to": ["+14155550123"], "body": "Hi", "override_sending_hours": true}"#
            server.clock.set(PlanTests.date("2026-12-18T05:59:59Z"))
            #expect(
                try await server.request(.post, "/v1/messages", key: org.ownerKey, json: send).status == .created,
                "a second before: still there"
            )
            server.clock.set(PlanTests.date("2026-12-18T06:00:00Z"))
            let late = try await server.request(.post, "/v1/messages", key: org.ownerKey, json: send)
            #expect(
                late.status.code == 402,
                "at the instant itself the plan credits no longer count, worker or not: \(late.text)"
            )

            #expect(try await server.services.plans.runExpiry() == 1)
            #expect(try await server.services.plans.runExpiry() == 0)
            let log = try await server.request(.get, "/v1/audit-log?action=credits.expired", key: org.ownerKey).list()
            #expect(
                log.compactMap { $0["message"] as? String } == ["99 plan credits expired at the end of their cycle."]
            )
            let lines = try await server.request(.get, "/v1/billing/transactions", key: org.ownerKey).list()
            #expect(lines.map { $0["type"] as? String } == ["grant", "expiry"])
            #expect(lines.map { $0["credits"] as? Double } == [100, -99])
            #expect(try await server.services.plans.runCycles() == 1, "the next cycle begins at the same instant")
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func planCreditsAreSpentBeforePurchasedOnes(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await BillingTests.putCard(server, org, "4242424242424242")
            _ = try await BillingTests.buy(server, org, credits: 100, key: "bought")
            try await PlanTests.plan(server, org)
            try await server.services.plans.runCycles()
            try await server.importContacts(org, phones: ["+14155550123"])
            _ = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["+14155550123"], "body": "Hi", "override_sending_hours": true}"#
            )
            let lots = try #require(try await server.pool(org)["lots"] as? [[String: Any]])
            #expect(lots.first { $0["kind"] as? String == "plan" }?["held"] as? Double == 1)
            #expect(lots.first { $0["kind"] as? String == "purchased" }?["held"] as? Double == 0)
        }
    }

    @Test(arguments: stores)
    func theSchedulerCatchesUpAfterDowntimeWithoutGrantingTwice(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let expiring = try await server.makeOrganization("Expiring Studio")
            let protected = try await server.makeOrganization("Protected Studio")
            let start = PlanTests.date("2026-08-18T12:00:00Z")
            try await PlanTests.plan(server, expiring, startsAt: start)
            try await PlanTests.plan(server, protected, rollover: true, startsAt: start)
            // Aug, Sep, Oct and the current November cycle, for each organisation.
            #expect(try await server.services.plans.runCycles() == 8)
            #expect(try await server.services.plans.runCycles() == 0)
            #expect(
                try await server.pool(expiring)["posted"] as? Double == 100,
                "past cycles' credits would have expired: only this cycle's"
            )
            let missed = try await server.request(.get, "/v1/audit-log?action=plan.missed", key: expiring.ownerKey)
                .list()
            #expect(missed.count == 3)
            #expect(
                try await server.pool(protected)["posted"] as? Double == 400,
                "with rollover protection every cycle counts"
            )
            let lots = try #require(try await server.pool(protected)["lots"] as? [[String: Any]])
            #expect(lots.allSatisfy { $0["expires_at"] == nil })
        }
    }

    /// The PastorsLine page: "Credits per Month … This is the amount you assign to be added
    /// (automatically) to that user's profile every month" — with or without a plan, on the
    /// organisation's allotment day.
    @Test(arguments: stores)
    func staffAllotmentsAreGrantedFromThePoolEachMonthWithoutAPlan(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization(mode: .individual)
            let staff = try await server.addStaff(org, role: .staff)
            try await server.fund(org, credits: 100)
            let patched = try await server.request(
                .patch,
                "/v1/staff/\(staff.id)",
                key: org.ownerKey,
                json: #"{"credits_per_month": 20}"#
            )
            #expect(patched.status == .ok, "\(patched.text)")
            #expect(
                try await server.services.plans.runMonthly() == 0,
                "the month the organisation began is not allotted"
            )
            server.clock.set(PlanTests.date("2026-12-01T05:59:59Z"))
            #expect(try await server.services.plans.runMonthly() == 0)
            server.clock.set(PlanTests.date("2026-12-01T06:00:00Z"))
            #expect(try await server.services.plans.runMonthly() == 1, "midnight on the 1st in Chicago")
            #expect(try await server.services.plans.runMonthly() == 0, "once a month")
            server.clock.set(PlanTests.date("2027-01-01T06:00:00Z"))
            #expect(try await server.services.plans.runMonthly() == 1)
            let view = try await server.request(.get, "/v1/credits", key: org.ownerKey).object()
            let wallet = (view["wallets"] as? [[String: Any]])?.first { $0["staff_id"] as? String == staff.id }
            #expect(wallet?["posted"] as? Double == 40)
            #expect((view["pool"] as? [String: Any])?["posted"] as? Double == 60, "100 funded − 2 × 20 allotted")
            let log = try await server.request(.get, "/v1/audit-log?action=credits.allotted", key: org.ownerKey).list()
            #expect(log.first?["message"] as? String == "20 credits allotted to Sam staff for this month.")
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func rolloverProtectionStopsGrantedPlanCreditsFromExpiring(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await PlanTests.plan(server, org)
            try await server.services.plans.runCycles()
            try await PlanTests.plan(server, org, rollover: true)
            let lots = try #require(try await server.pool(org)["lots"] as? [[String: Any]])
            #expect(lots.count == 1)
            #expect(lots.first?["expires_at"] == nil, "the credits already granted no longer expire")
            server.clock.set(PlanTests.date("2026-12-18T06:00:01Z"))
            #expect(try await server.services.plans.runExpiry() == 0)
            try await server.importContacts(org, phones: ["+14155550123"])
            let sent = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["+14155550123"], "body": "Hi", "override_sending_hours": true}"#
            )
            #expect(sent.status == .created, "the protected credits are still there after the cycle ends")
        }
    }
}
