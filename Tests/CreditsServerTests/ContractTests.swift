import CreditsCore
import CreditsServer
import CreditsServices
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

/// What schemathesis found where the server and `/openapi.yaml` disagreed, each now settled the
/// way the spec says.
@Suite struct ContractTests {
    @Test func methodsAPathDoesNotTakeAre405WithAllow() async throws {
        try await TestServer.with(.sqlite) { server in
            let org = try await server.makeOrganization()
            for method in [HTTPRequest.Method.head, .options, .trace, .put] {
                let response = try await server.request(method, "/v1/credits", key: org.ownerKey)
                #expect(response.status == .methodNotAllowed, "\(method)")
                #expect(response.headers[.allow] == "GET", "\(method)")
            }
        }
    }

    @Test func aNumberThatDoesNotFitIs422NamingItsField() async throws {
        try await TestServer.with(.sqlite) { server in
            let org = try await server.makeOrganization()
            for body in [#"{"credits": 100000000000000000000}"#, #"{"credits": 100.5}"#] {
                let response = try await server.request(
                    .post,
                    "/v1/credits/purchases",
                    key: org.ownerKey,
                    json: body,
                    headers: ["Idempotency-Key": UUID().uuidString]
                )
                #expect(response.status == .unprocessableContent, "\(body): \(response.text)")
                #expect(response.errorField == "credits", "\(body)")
            }
            let nested = try await server.request(
                .put,
                "/v1/billing/payment-method",
                key: org.ownerKey,
                json:
                    #"{"card": {"number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": -309128319417989201920}}"#
            )
            #expect(nested.status == .unprocessableContent, "\(nested.text)")
            #expect(nested.errorField == "card")
            let threshold = try await server.request(
                .put,
                "/v1/credits/auto-renew",
                key: org.ownerKey,
                json: #"{"enabled": false, "threshold": 1e20}"#
            )
            #expect(threshold.errorField == "threshold", "not the required field next to it: \(threshold.text)")
            let broken = try await server.request(.post, "/v1/estimate", key: org.ownerKey, json: #"{"body": "#)
            #expect(broken.status == .badRequest)
            #expect(broken.errorCode == "invalid_json")
        }
    }

    @Test func sendAtTakesEveryRFC3339Offset() async throws {
        try await TestServer.with(.sqlite) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            try await server.importContacts(org, phones: ["+14155550123"])
            let accepted = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["+14155550123"], "body": "Hi", "send_at": "2026-12-05t10:00:00+23:34"}"#
            )
            #expect(accepted.status == .created, "\(accepted.text)")
            #expect(try accepted.object()["send_at"] as? String == "2026-12-04T10:26:00Z")
            for bad in ["2026-12-05", "2026-13-05T10:00:00Z", "2026-12-05T10:00:00+24:00", "tomorrow"] {
                let refused = try await server.request(
                    .post,
                    "/v1/messages",
                    key: org.ownerKey,
                    json: #"{"to": ["+14155550123"], "body": "Hi", "send_at": "\#(bad)"}"#
                )
                #expect(refused.status == .unprocessableContent, "\(bad): \(refused.text)")
                #expect(refused.errorField == "send_at", "\(bad)")
            }
        }
    }

    @Test func nullIsNotAValueOfAnyField() async throws {
        try await TestServer.with(.sqlite) { server in
            let org = try await server.makeOrganization()
            let response = try await server.request(
                .post,
                "/v1/api-keys",
                key: org.ownerKey,
                json: #"{"name": "k", "staff_id": null}"#
            )
            #expect(response.status == .unprocessableContent)
            #expect(response.errorField == "staff_id")
            #expect(
                try await server.request(.get, "/v1/api-keys", key: org.ownerKey).list().count == 1,
                "nothing was made"
            )
        }
    }

    @Test func emptyRepeatedOrUnknownQueryValuesAreRefused() async throws {
        try await TestServer.with(.sqlite) { server in
            let org = try await server.makeOrganization()
            for path in [
                "/v1/campaigns?limit=", "/v1/contacts?consent=", "/v1/campaigns?limit=5&limit=abc",
                "/v1/audit-log?format=AAA", "/v1/credits/entries?format=xml",
                "/v1/billing/transactions?format=csv&limit=abc", "/v1/credits/entries?format=csv&cursor=1.5",
                "/v1/audit-log?format=csv&limit=0",
            ] {
                let response = try await server.request(.get, path, key: org.ownerKey)
                #expect(response.status == .badRequest, "\(path): \(response.text)")
                #expect(response.errorCode == "query_invalid", "\(path)")
            }
            #expect(try await server.request(.get, "/v1/audit-log?format=json", key: org.ownerKey).status == .ok)
            // A cursor is split at its dash byte, even when what follows joins the dash into one character.
            #expect(try await server.request(.get, "/v1/staff?cursor=5-%F0%9F%8F%BBx", key: org.ownerKey).status == .ok)
        }
    }

    @Test func anOwnerKeepsEveryPermission() async throws {
        try await TestServer.with(.sqlite) { server in
            let org = try await server.makeOrganization()
            let stripped = try await server.request(
                .patch,
                "/v1/staff/\(org.ownerID)",
                key: org.ownerKey,
                json: #"{"permissions": []}"#
            )
            #expect(stripped.status == .unprocessableContent)
            #expect(stripped.errorCode == "owner_permissions")
            let settings = try await server.request(
                .patch,
                "/v1/organization/sms-settings",
                key: org.ownerKey,
                json: #"{"header": "Bright Stars"}"#
            )
            #expect(settings.status == .ok, "the owner can still manage settings")
        }
    }

    @Test(arguments: [
        ("2026-12-05T10:00:00Z", 1_796_464_800.0), ("2026-12-05t10:00:00z", 1_796_464_800),
        ("2026-12-05T10:00:00.250Z", 1_796_464_800.25), ("2026-12-05T04:00:00-06:00", 1_796_464_800),
        ("2026-12-06T09:59:00+23:59", 1_796_464_800), ("2024-02-29T00:00:00Z", 1_709_164_800),
        ("1969-12-31T23:59:59Z", -1),
    ])
    func rfc3339TimesAreRead(_ text: String, _ seconds: Double) {
        #expect(RFC3339.date(text)?.timeIntervalSince1970 == seconds)
    }

    @Test(arguments: [
        "2026-12-05", "2026-12-05T10:00:00", "2026-12-05 10:00:00Z", "2025-02-29T00:00:00Z", "2026-12-05T24:00:00Z",
        "2026-12-05T10:00:00+24:00", "2026-12-05T10:00:00+0600", "2026-12-05T10:00:00.Z", "٢٠٢٦-12-05T10:00:00Z",
    ])
    func notRFC3339TimesAreNot(_ text: String) {
        #expect(RFC3339.date(text) == nil)
    }
}
