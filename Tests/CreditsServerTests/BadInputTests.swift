import CreditsCore
import CreditsServer
import CreditsServices
import Foundation
import TestSupport
import Testing

/// No input a client sends makes the server answer 500, and refused input changes nothing.
@Suite struct BadInputTests {
    static let fieldNames = [
        "name", "email", "role", "permissions", "password", "credits_per_month", "low_balance_threshold",
        "header", "footer", "signup_message", "sending_hours", "smart_encoding", "reply_mode", "phone",
        "first_name", "groups", "fields", "consent", "state", "from", "to", "credits", "note", "body",
        "channel", "signup", "staff_id",
    ]
    static let wrongValues = [
        "null", "true", "-1", "1e400", "12345678901234567890", "0.0001", "\"\"", "\"\\u0000\"", "[]", "[null]",
        "{}", "{\"x\": {\"y\": []}}", "\"\(String(repeating: "é", count: 2000))\"",
    ]
    static let bodies = ["", "null", "[]", "123", "\"text\"", "{", "{\"a\":", "\u{FF}\u{FE}", "{}"]

    @Test(arguments: TestDatabase.available)
    func malformedBodiesAreClientErrors(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization(mode: .individual)
            try await server.fund(org, credits: 10)
            let staff = try await server.addStaff(org, role: .staff)
            let contact = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: #"{"name": "Ana", "phone": "4155552671"}"#
            )
            let contactID = try contact.object()["id"] as? String ?? ""
            let table = buildRouter(services: server.services).routes
            var requests = 0
            for route in table.routes where [.post, .patch, .put].contains(route.method) {
                let path = route.path.replacingOccurrences(
                    of: "{id}",
                    with: route.path.hasPrefix("/v1/staff") ? staff.id : contactID
                )
                var payloads = BadInputTests.bodies
                for field in BadInputTests.fieldNames {
                    payloads += BadInputTests.wrongValues.map { "{\"\(field)\": \($0)}" }
                }
                for payload in payloads {
                    let response = try await server.request(
                        route.method,
                        path,
                        key: org.ownerKey,
                        json: payload,
                        headers: ["Idempotency-Key": UUID().uuidString]
                    )
                    #expect(
                        response.status.code < 500,
                        "\(route.method) \(route.path) \(payload.prefix(60)): \(response.status) \(response.text)"
                    )
                    requests += 1
                }
            }
            #expect(requests > 1000)
            #expect(try await LedgerVerifierCheck.isClean(server))
        }
    }
}

enum LedgerVerifierCheck {
    static func isClean(_ server: TestServer) async throws -> Bool {
        try await CreditsStoreVerify.violations(server.services.database).isEmpty
    }
}
