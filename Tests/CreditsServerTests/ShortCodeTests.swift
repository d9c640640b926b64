import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

/// The shared short code add-on (the PastorsLine page: "shared short code … $5/month"): a
/// keyword rented through the subscription machinery, and texts to the short code routed by it.
@Suite struct ShortCodeTests {
    static let stores = TestDatabase.available

    static func shortCodePurchases(_ server: TestServer, _ org: TestServer.Org) async throws -> [Purchase] {
        try await server.services.stores.billing.purchases(of: org.id, succeededOnly: true, after: nil, limit: 50)
            .filter { $0.kind == .shortCode }
    }

    static func text(_ server: TestServer, from: String, _ body: String) async throws {
        let answer = try await server.callback(
            "/webhooks/simulator/inbound",
            ["MessageSid": "SMin\(UUID().uuidString.prefix(12))", "From": from, "To": "55222", "Body": body]
        )
        #expect(answer.status.code < 300, "\(answer.text)")
    }

    @Test(arguments: stores)
    func aKeywordIsRentedMonthlyWithAnInvoiceAndHeldByOneOrganisation(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            var view = try await server.request(.get, "/v1/billing/short-code", key: org.ownerKey).object()
            #expect(view["short_code"] as? String == "55222" && view["offered"] as? Bool == true)
            #expect(
                (view["monthly"] as? [String: Any])?["text"] as? String == "$5.00"
                    && view["status"] as? String == "none"
            )

            // Without a payment method nothing is kept.
            let unpaid = try await server.request(
                .put,
                "/v1/billing/short-code",
                key: org.ownerKey,
                json: #"{"keyword": "brightstars"}"#
            )
            #expect(unpaid.status == .conflict && unpaid.errorCode == "payment_method_required", "\(unpaid.text)")
            #expect(unpaid.text.contains("before paying for a plan or an add-on"))
            #expect(
                try await server.request(.get, "/v1/billing/short-code", key: org.ownerKey).object()["status"]
                    as? String == "none"
            )

            // A declined card is refused, and the same keyword is charged again once the card changes.
            _ = try await BillingTests.putCard(server, org, "4000 0000 0000 0002")
            let declined = try await server.request(
                .put,
                "/v1/billing/short-code",
                key: org.ownerKey,
                json: #"{"keyword": "brightstars"}"#
            )
            #expect(declined.status.code == 402, "\(declined.text)")
            _ = try await BillingTests.putCard(server, org, "4242 4242 4242 4242")
            let staff = try await server.addStaff(org, role: .staff)
            let forbidden = try await server.request(
                .put,
                "/v1/billing/short-code",
                key: staff.key,
                json: #"{"keyword": "MINE"}"#
            )
            #expect(forbidden.status == .forbidden)
            let taken = try await server.request(
                .put,
                "/v1/billing/short-code",
                key: org.ownerKey,
                json: #"{"keyword": "brightstars"}"#
            )
            #expect(taken.status == .ok, "\(taken.text)")
            view = try taken.object()
            #expect(view["keyword"] as? String == "BRIGHTSTARS" && view["status"] as? String == "active")
            #expect(view["how_to_join"] as? String == "Text BRIGHTSTARS to 55222")
            var purchases = try await ShortCodeTests.shortCodePurchases(server, org)
            #expect(
                purchases.count == 1 && purchases.first?.status == .succeeded
                    && purchases.first?.quote.subtotalCents == 500
            )
            #expect(purchases.first?.invoiceNumber != nil, "invoiced like every fee")

            // Another organisation cannot take it; reserved words and odd shapes are refused.
            let other = try await server.makeOrganization("Other Gym")
            _ = try await BillingTests.putCard(server, other, "4242 4242 4242 4242")
            let clash = try await server.request(
                .put,
                "/v1/billing/short-code",
                key: other.ownerKey,
                json: #"{"keyword": "BrightStars"}"#
            )
            #expect(clash.status == .conflict && clash.errorCode == "keyword_taken", "\(clash.text)")
            let stop = try await server.request(
                .put,
                "/v1/billing/short-code",
                key: other.ownerKey,
                json: #"{"keyword": "stop"}"#
            )
            #expect(stop.errorCode == "keyword_reserved")
            let opt = try await server.request(
                .put,
                "/v1/billing/short-code",
                key: other.ownerKey,
                json: #"{"keyword": "opt"}"#
            )
            #expect(opt.errorCode == "keyword_reserved", "OPT would take “opt out” meant for others")
            let short = try await server.request(
                .put,
                "/v1/billing/short-code",
                key: other.ownerKey,
                json: #"{"keyword": "ab"}"#
            )
            #expect(short.errorField == "keyword")
            #expect(try await ShortCodeTests.shortCodePurchases(server, other).isEmpty, "nothing charged for a refusal")

            // A new keyword within a paid month costs nothing more; a new month is charged once.
            let renamed = try await server.request(
                .put,
                "/v1/billing/short-code",
                key: org.ownerKey,
                json: #"{"keyword": "STARS"}"#
            )
            #expect(try renamed.object()["keyword"] as? String == "STARS")
            #expect(try await ShortCodeTests.shortCodePurchases(server, org).count == 1)
            try await server.services.shortCodes.runFees()
            #expect(try await ShortCodeTests.shortCodePurchases(server, org).count == 1, "this month is paid")
            server.clock.advance(32 * 86_400)
            try await server.services.shortCodes.runFees()
            try await server.services.shortCodes.runFees()
            purchases = try await ShortCodeTests.shortCodePurchases(server, org)
            #expect(
                purchases.count == 2 && purchases.allSatisfy { $0.status == .succeeded },
                "charged once for the new month"
            )

            // Stopped: it works until the end of the month paid for, then it is released.
            let ending = try await server.request(.delete, "/v1/billing/short-code", key: org.ownerKey).object()
            #expect(ending["status"] as? String == "ending" && ending["ends_at"] != nil)
            server.clock.advance(32 * 86_400)
            try await server.services.shortCodes.runFees()
            #expect(try await ShortCodeTests.shortCodePurchases(server, org).count == 2, "not charged again")
            #expect(
                try await server.request(.get, "/v1/billing/short-code", key: org.ownerKey).object()["status"]
                    as? String == "none"
            )
            let free = try await server.request(
                .put,
                "/v1/billing/short-code",
                key: other.ownerKey,
                json: #"{"keyword": "stars"}"#
            )
            #expect(free.status == .ok, "a released keyword can be taken: \(free.text)")
        }
    }

    @Test(arguments: stores)
    func textsToTheShortCodeReachTheOrganisationHoldingTheKeyword(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 5)
            _ = try await BillingTests.putCard(server, org, "4242 4242 4242 4242")
            #expect(
                try await server.request(
                    .put,
                    "/v1/billing/short-code",
                    key: org.ownerKey,
                    json: #"{"keyword": "GYM"}"#
                )
                .status == .ok
            )
            // The keyword alone asks to join; the YES that follows (no keyword) confirms it.
            try await ShortCodeTests.text(server, from: "+14155550190", "gym")
            var outbound = try await InboundTests().outbound(server)
            #expect(
                outbound.last?.kind == "keyword_reply" && outbound.last?.body.contains("YES") == true,
                "\(outbound)"
            )
            try await ShortCodeTests.text(server, from: "+14155550190", "YES")
            let contacts = try await server.request(.get, "/v1/contacts?search=5550190", key: org.ownerKey).list()
            #expect(contacts.first?["consent"] as? String == "opted_in", "\(contacts)")

            // A keyword with words lands in the Messenger Center, on the short code's conversation.
            try await ShortCodeTests.text(server, from: "+14155550191", "GYM is the pool open today?")
            let conversations = try await server.request(.get, "/v1/conversations", key: org.ownerKey).list()
            let asked = try #require(conversations.first { $0["phone"] as? String == "+14155550191" })
            #expect(
                asked["number"] as? String == "55222"
                    && asked["last_message"] as? String == "GYM is the pool open today?"
            )
            // Staff answer from the organisation's own number: the short code is shared.
            let reply = try await server.request(
                .post,
                "/v1/conversations/\(try #require(asked["id"] as? String))/messages",
                key: org.ownerKey,
                json: #"{"body": "Yes, until 8"}"#
            )
            #expect(reply.status == .created, "\(reply.text)")
            #expect(try reply.object()["from"] as? String != "55222")

            // STOP goes to the organisation last texted there, whoever holds other keywords.
            let rival = try await server.makeOrganization("Rival Gym")
            _ = try await BillingTests.putCard(server, rival, "4242 4242 4242 4242")
            _ = try await server.request(
                .put,
                "/v1/billing/short-code",
                key: rival.ownerKey,
                json: #"{"keyword": "STOPS"}"#
            )
            try await ShortCodeTests.text(server, from: "+14155550190", "Stop.")
            let stopped = try await server.request(.get, "/v1/contacts?search=5550190", key: org.ownerKey).list()
            #expect(stopped.first?["consent"] as? String == "opted_out", "\(stopped)")

            // An unknown keyword from someone who never texted one reaches nobody.
            let before = try await server.request(.get, "/v1/conversations", key: org.ownerKey).list().count
            try await ShortCodeTests.text(server, from: "+14155550192", "PIZZA please")
            #expect(try await server.request(.get, "/v1/conversations", key: org.ownerKey).list().count == before)
            outbound = try await InboundTests().outbound(server)
            #expect(!outbound.contains { $0.body.contains("PIZZA") })
        }
    }

    @Test(arguments: stores)
    func aMonthlyFeeThatCannotBeChargedStopsTheKeyword(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            _ = try await BillingTests.putCard(server, org, "4242 4242 4242 4242")
            _ = try await server.request(
                .put,
                "/v1/billing/short-code",
                key: org.ownerKey,
                json: #"{"keyword": "GYM"}"#
            )
            _ = try await BillingTests.putCard(server, org, "4000 0000 0000 0002")
            server.clock.advance(32 * 86_400)
            try await server.services.shortCodes.runFees()
            let view = try await server.request(.get, "/v1/billing/short-code", key: org.ownerKey).object()
            #expect(view["status"] as? String == "none", "\(view)")
            let audit = try await server.services.database.read { sql in
                try await sql.raw("SELECT message FROM audit_log WHERE action = 'subscription.short_code_failed'").all()
                    .map {
                        try $0.decode(column: "message", as: String.self)
                    }
            }
            #expect(audit.count == 1 && audit[0].contains("Keyword GYM on the shared short code stopped"), "\(audit)")
        }
    }
}
