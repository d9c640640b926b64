import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

@Suite struct StaffRoutesTests {
    static let stores = TestDatabase.available

    @Test(arguments: stores)
    func staffAreAddedListedChangedAndDeleted(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let created = try await server.request(
                .post,
                "/v1/staff",
                key: org.ownerKey,
                json: #"{"name": "Dana Lee", "email": "Dana@Example.com", "role": "billing"}"#
            )
            #expect(created.status == .created)
            let staff = try created.object()
            let id = try #require(staff["id"] as? String)
            #expect(staff["email"] as? String == "dana@example.com")
            #expect(staff["permissions"] as? [String] == ["manage_user_credits", "purchase_credits", "view_logs"])
            #expect(try await server.request(.get, "/v1/staff", key: org.ownerKey).list().count == 2)
            let changed = try await server.request(
                .patch,
                "/v1/staff/\(id)",
                key: org.ownerKey,
                json: #"{"role": "staff", "name": "Dana L."}"#
            )
            #expect(try changed.object()["permissions"] as? [String] == ["send_mass_texts"])
            #expect(try changed.object()["name"] as? String == "Dana L.")
            #expect(try await server.request(.delete, "/v1/staff/\(id)", key: org.ownerKey).status == .noContent)
            #expect(try await server.request(.get, "/v1/staff/\(id)", key: org.ownerKey).status == .notFound)
            let actions = try await server.request(.get, "/v1/audit-log?action=staff", key: org.ownerKey).list()
                .compactMap { $0["action"] as? String }
            #expect(actions == ["staff.created", "staff.updated", "staff.deleted"])
        }
    }

    @Test(arguments: stores)
    func aDuplicateEmailOrBadInputIsRefused(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let again = try await server.request(
                .post,
                "/v1/staff",
                key: org.ownerKey,
                json: #"{"name": "X", "email": "owner@brightstarsgym.example", "role": "staff"}"#
            )
            #expect(again.status == .conflict)
            let badEmail = try await server.request(
                .post,
                "/v1/staff",
                key: org.ownerKey,
                json: #"{"name": "X", "email": "nope", "role": "staff"}"#
            )
            #expect(badEmail.status == .unprocessableContent)
            #expect(badEmail.errorField == "email")
            let badRole = try await server.request(
                .post,
                "/v1/staff",
                key: org.ownerKey,
                json: #"{"name": "X", "email": "x@y.co", "role": "king"}"#
            )
            #expect(badRole.status == .unprocessableContent)
            #expect(badRole.errorField == "role")
            let missing = try await server.request(.post, "/v1/staff", key: org.ownerKey, json: #"{"name": "X"}"#)
            #expect(missing.status == .unprocessableContent)
            #expect(missing.errorCode == "field_required")
        }
    }

    @Test(arguments: stores)
    func permissionsFollowRoles(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let staff = try await server.addStaff(org, role: .staff)
            let billing = try await server.addStaff(org, role: .billing)
            let admin = try await server.addStaff(org, role: .admin)
            // (key, method, path, body, allowed)
            let cases: [(String, String, Bool)] = [
                (staff.key, "settings", false), (billing.key, "settings", false), (admin.key, "settings", true),
                (staff.key, "audit", false), (billing.key, "audit", true), (admin.key, "audit", true),
                (staff.key, "staff", false), (billing.key, "staff", false), (admin.key, "staff", true),
            ]
            for (key, action, allowed) in cases {
                let response: TestResponse
                switch action {
                case "settings":
                    response = try await server.request(
                        .patch,
                        "/v1/organization/sms-settings",
                        key: key,
                        json: #"{"header": "Hi"}"#
                    )
                case "audit": response = try await server.request(.get, "/v1/audit-log", key: key)
                default:
                    response = try await server.request(
                        .post,
                        "/v1/staff",
                        key: key,
                        json: #"{"name": "N", "email": "n\#(UUID().uuidString.prefix(4))@x.co", "role": "staff"}"#
                    )
                }
                #expect((response.status.code < 300) == allowed, "\(action) with \(key.prefix(10)): \(response.status)")
                if !allowed { #expect(response.status == .forbidden) }
            }
            let promote = try await server.request(
                .patch,
                "/v1/staff/\(staff.id)",
                key: admin.key,
                json: #"{"role": "owner"}"#
            )
            #expect(promote.status == .forbidden, "only an owner makes owners")
        }
    }

    @Test(arguments: stores)
    func deletingAStaffMemberReturnsTheirWalletToThePool(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization(mode: .individual)
            try await server.fund(org, credits: 100)
            let staff = try await server.addStaff(org, role: .staff)
            let transfer = try await server.request(
                .post,
                "/v1/credits/transfers",
                key: org.ownerKey,
                json: #"{"from": "pool", "to": "\#(staff.id)", "credits": 30}"#,
                headers: ["Idempotency-Key": "t1"]
            )
            #expect(transfer.status == .created, "\(transfer.text)")
            #expect(try await server.request(.delete, "/v1/staff/\(staff.id)", key: org.ownerKey).status == .noContent)
            let credits = try await server.request(.get, "/v1/credits", key: org.ownerKey).object()
            #expect((credits["pool"] as? [String: Any])?["available"] as? Double == 100)
            #expect((credits["wallets"] as? [Any])?.isEmpty == true)
            let lines = try await server.request(.get, "/v1/credits/entries?wallet=pool", key: org.ownerKey).list()
            #expect(lines.compactMap { $0["amount"] as? Double } == [100, -30, 30])
            #expect(lines.last?["memo"] as? String == "Credits of deleted staff member Sam staff returned to the pool")
            #expect(try await LedgerVerifier(database: server.services.database).verify() == [])
        }
    }

    @Test(arguments: stores)
    func allotmentsMustFitWhatIsUnassigned(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization(mode: .individual)
            try await server.fund(org, credits: 120)
            let first = try await server.addStaff(org, role: .staff)
            let second = try await server.addStaff(org, role: .staff)
            #expect(
                try await server.request(
                    .patch,
                    "/v1/staff/\(first.id)",
                    key: org.ownerKey,
                    json: #"{"credits_per_month": 100}"#
                ).status == .ok
            )
            let tooMuch = try await server.request(
                .patch,
                "/v1/staff/\(second.id)",
                key: org.ownerKey,
                json: #"{"credits_per_month": 21}"#
            )
            #expect(tooMuch.status == .unprocessableContent)
            #expect(
                try (tooMuch.object()["error"] as? [String: Any])?["message"] as? String
                    == "Credits per Month cannot be greater than 20."
            )
            #expect(
                try await server.request(
                    .patch,
                    "/v1/staff/\(second.id)",
                    key: org.ownerKey,
                    json: #"{"credits_per_month": 20}"#
                ).status == .ok
            )
            let view = try await server.request(.get, "/v1/credits", key: org.ownerKey).object()
            #expect((view["allotments"] as? [String: Any])?["assigned"] as? Double == 120)
        }
    }

    /// The PastorsLine page: owners and admins show "Shared" and cannot be given credits per month
    /// (an allotment set on an owner used to be stored and never granted).
    @Test(arguments: stores)
    func ownersAndAdminsShareThePoolAndGetNoCreditsPerMonth(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization(mode: .individual)
            try await server.fund(org, credits: 120)
            let onOwner = try await server.request(
                .patch,
                "/v1/staff/\(org.ownerID)",
                key: org.ownerKey,
                json: #"{"credits_per_month": 10}"#
            )
            #expect(onOwner.status == .unprocessableContent, "\(onOwner.text)")
            #expect(onOwner.text.contains("allotment_for_shared_role"))
            #expect(
                onOwner.text.contains("uses the shared pool (“Shared”): credits per month are given to other staff.")
            )
            let newAdmin = try await server.request(
                .post,
                "/v1/staff",
                key: org.ownerKey,
                json: #"{"name": "Ada Admin", "email": "ada@example.com", "role": "admin", "credits_per_month": 5}"#
            )
            #expect(newAdmin.status == .unprocessableContent, "\(newAdmin.text)")
            #expect(
                try await server.request(
                    .patch,
                    "/v1/staff/\(org.ownerID)",
                    key: org.ownerKey,
                    json: #"{"credits_per_month": 0}"#
                ).status == .ok,
                "zero is what they have"
            )

            // A staff member with credits per month made an admin joins the shared pool.
            let clerk = try await server.addStaff(org, role: .staff)
            _ = try await server.request(
                .patch,
                "/v1/staff/\(clerk.id)",
                key: org.ownerKey,
                json: #"{"credits_per_month": 30}"#
            )
            let promoted = try await server.request(
                .patch,
                "/v1/staff/\(clerk.id)",
                key: org.ownerKey,
                json: #"{"role": "admin"}"#
            )
            #expect(promoted.status == .ok, "\(promoted.text)")
            #expect(try promoted.object()["credits_per_month"] as? Int == 0, "\(promoted.text)")
            let view = try await server.request(.get, "/v1/credits", key: org.ownerKey).object()
            #expect((view["allotments"] as? [String: Any])?["assigned"] as? Double == 0)
        }
    }
}
