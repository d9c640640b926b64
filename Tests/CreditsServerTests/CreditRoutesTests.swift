import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import TestSupport
import Testing

@Suite struct CreditRoutesTests {
    static let stores = TestDatabase.available

    @Test(arguments: stores)
    func transfersNeedAnIdempotencyKeyAndReplayTheFirstResult(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization(mode: .individual)
            try await server.fund(org, credits: 50)
            let staff = try await server.addStaff(org, role: .staff)
            let body = #"{"from": "pool", "to": "\#(staff.id)", "credits": 12.5}"#
            let noKey = try await server.request(.post, "/v1/credits/transfers", key: org.ownerKey, json: body)
            #expect(noKey.status == .badRequest)
            #expect(noKey.errorCode == "idempotency_key_required")
            let first = try await server.request(
                .post,
                "/v1/credits/transfers",
                key: org.ownerKey,
                json: body,
                headers: ["Idempotency-Key": "k-1"]
            )
            #expect(first.status == .created)
            let again = try await server.request(
                .post,
                "/v1/credits/transfers",
                key: org.ownerKey,
                json: body,
                headers: ["Idempotency-Key": "k-1"]
            )
            #expect(again.status == .ok)
            #expect(try again.object()["replayed"] as? Bool == true)
            #expect(try again.object()["transfer_id"] as? String == (try first.object()["transfer_id"] as? String))
            let other = try await server.request(
                .post,
                "/v1/credits/transfers",
                key: org.ownerKey,
                json: #"{"from": "pool", "to": "\#(staff.id)", "credits": 1}"#,
                headers: ["Idempotency-Key": "k-1"]
            )
            #expect(other.status == .conflict)
            #expect(other.errorCode == "idempotency_key_reused")
            let view = try await server.request(.get, "/v1/credits", key: org.ownerKey).object()
            #expect((view["pool"] as? [String: Any])?["available"] as? Double == 37.5)
            let wallet = try #require((view["wallets"] as? [[String: Any]])?.first)
            #expect(wallet["available"] as? Double == 12.5)
            #expect(wallet["staff_id"] as? String == staff.id)
        }
    }

    @Test(arguments: stores)
    func aTransferOverTheBalanceIsRefusedWithTheShortfall(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization(mode: .individual)
            try await server.fund(org, credits: 10)
            let staff = try await server.addStaff(org, role: .staff)
            let response = try await server.request(
                .post,
                "/v1/credits/transfers",
                key: org.ownerKey,
                json: #"{"from": "pool", "to": "\#(staff.id)", "credits": 12}"#,
                headers: ["Idempotency-Key": "k"]
            )
            #expect(response.status.code == 402)
            #expect(try (response.object()["error"] as? [String: Any])?["shortfall"] as? Double == 2)
            let staffTransfer = try await server.request(
                .post,
                "/v1/credits/transfers",
                key: staff.key,
                json: #"{"from": "pool", "to": "\#(staff.id)", "credits": 1}"#,
                headers: ["Idempotency-Key": "k2"]
            )
            #expect(staffTransfer.status == .forbidden)
        }
    }

    @Test(arguments: stores)
    func sharedOrganisationsHaveNoWallets(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization(mode: .shared)
            try await server.fund(org, credits: 10)
            let staff = try await server.addStaff(org, role: .staff)
            let response = try await server.request(
                .post,
                "/v1/credits/transfers",
                key: org.ownerKey,
                json: #"{"from": "pool", "to": "\#(staff.id)", "credits": 1}"#,
                headers: ["Idempotency-Key": "k"]
            )
            #expect(response.status == .conflict)
            #expect(response.errorCode == "individual_credits_off")
        }
    }

    @Test(arguments: stores)
    func statementsShowRunningBalancesTheLast30DaysAndCSV(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 40)
            server.clock.advance(40 * 86_400)
            try await server.fund(org, credits: 60)
            server.clock.advance(86_400)
            let all = try await server.request(.get, "/v1/credits/entries", key: org.ownerKey).list()
            #expect(all.compactMap { $0["balance_after"] as? Double } == [40, 100])
            let recent = try await server.request(.get, "/v1/credits/entries?wallet=pool&since=30d", key: org.ownerKey)
                .list()
            #expect(recent.compactMap { $0["amount"] as? Double } == [60])
            let csv = try await server.request(
                .get,
                "/v1/credits/entries?since=30d",
                key: org.ownerKey,
                headers: ["Accept": "text/csv"]
            )
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            let lines = csv.text.components(separatedBy: "\r\n")
            #expect(lines[0] == "time,account,operation,description,credits,balance,counterparty,reference,by")
            #expect(
                lines[1].contains(
                    ",System credits,deposit,60 credits added by adjustment: test credits,60,100,adjustments,,system"
                ),
                "without a wallet: the combined log, each line naming its account"
            )
            let bad = try await server.request(.get, "/v1/credits/entries?since=yesterday", key: org.ownerKey)
            #expect(bad.status == .badRequest)
            #expect(bad.errorField == "since")
        }
    }

    @Test(arguments: stores)
    func aReasonThatLooksLikeAPlaceholderIsWrittenAsTyped(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            _ = try await server.services.credits.adjust(
                org.id,
                credits: Credits(credits: 3),
                reason: "{{balance_after}} {{amount}}",
                actor: .system
            )
            let log = try await server.request(.get, "/v1/audit-log?action=credits.adjusted", key: org.ownerKey).list()
            #expect(
                log.compactMap { $0["message"] as? String } == [
                    "3 credits added by adjustment: {{balance_after}} {{amount}}. Pool balance 3."
                ]
            )
        }
    }

    @Test(arguments: stores)
    func anOperatorAdjustmentIsAuditedAndCanRemoveOnlyAvailableCredits(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 5)
            await #expect(
                throws: LedgerError.insufficientCredits(available: Credits(credits: 5), requested: Credits(credits: 6))
            ) {
                _ = try await server.services.credits.adjust(
                    org.id,
                    credits: Credits(credits: -6),
                    reason: "too much",
                    actor: .system
                )
            }
            _ = try await server.services.credits.adjust(
                org.id,
                credits: Credits(credits: -2),
                reason: "correction",
                actor: .system
            )
            _ = try await server.services.credits.adjust(
                org.id,
                credits: Credits(credits: 1),
                reason: "Goodwill.",
                actor: .system
            )
            let log = try await server.request(.get, "/v1/audit-log?action=credits.adjusted", key: org.ownerKey).list()
            #expect(
                log.compactMap { $0["message"] as? String } == [
                    "5 credits added by adjustment: test credits. Pool balance 5.",
                    "2 credits removed by adjustment: correction. Pool balance 3.",
                    "1 credits added by adjustment: Goodwill. Pool balance 4.",
                ]
            )
        }
    }

    @Test(arguments: stores)
    func theEstimateUsesTheOrganisationsHeaderAndFooter(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            _ = try await server.request(
                .patch,
                "/v1/organization/sms-settings",
                key: org.ownerKey,
                json: #"{"header": "Bright Stars Gym", "footer": "Reply STOP to opt out"}"#
            )
            let response = try await server.request(
                .post,
                "/v1/estimate",
                key: org.ownerKey,
                json: #"{"body": "Class is canceled today."}"#
            )
            let object = try response.object()
            #expect(object["text"] as? String == "Bright Stars Gym\nClass is canceled today.\nReply STOP to opt out")
            #expect(object["segments"] as? Int == 1)
            #expect(object["credits"] as? Double == 1)
            #expect((object["warnings"] as? [Any])?.isEmpty == true)
            let tollFree = try await server.request(
                .post,
                "/v1/estimate",
                key: org.ownerKey,
                json: #"{"body": "Hi", "channel": "toll-free"}"#
            )
            #expect(try tollFree.object()["credits"] as? Double == 1.5)
            let empty = try await server.request(.post, "/v1/estimate", key: org.ownerKey, json: #"{"body": ""}"#)
            #expect(empty.status == .unprocessableContent)
            #expect(empty.errorCode == "body_empty")
            let badChannel = try await server.request(
                .post,
                "/v1/estimate",
                key: org.ownerKey,
                json: #"{"body": "x", "channel": "fax"}"#
            )
            #expect(badChannel.status == .unprocessableContent)
            #expect(badChannel.errorField == "channel")
        }
    }

    @Test(arguments: stores)
    func theAuditLogFiltersAndExportsCSV(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            _ = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: #"{"name": "Ana, \"A\"", "phone": "4155552671"}"#
            )
            let entries = try await server.request(.get, "/v1/audit-log", key: org.ownerKey).list()
            #expect(entries.compactMap { $0["action"] as? String } == ["organization.created", "contact.created"])
            #expect(entries.last?["actor_name"] as? String == "API key First key (Olive Owner)")
            let csv = try await server.request(.get, "/v1/audit-log?format=csv&action=contact", key: org.ownerKey)
            #expect(csv.text.contains("\"Contact Ana, \"\"A\"\" (+14155552671) added.\""))
        }
    }
}
