import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import TestSupport
import Testing

/// Nobody edits, makes keys for or removes someone of a higher rank; only owners touch owners;
/// the last owner stays; your own password needs your current one.
@Suite struct RankTests {
    static let stores = TestDatabase.available

    @Test(arguments: stores)
    func anAdminCannotTakeOverTheOwner(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let admin = try await server.addStaff(org, role: .admin)
            let attempts: [(String, String, String?)] = [
                ("PATCH", "/v1/staff/\(org.ownerID)", #"{"password": "the admin's choice now"}"#),
                ("PATCH", "/v1/staff/\(org.ownerID)", #"{"email": "admin-controlled@example.com"}"#),
                ("PATCH", "/v1/staff/\(org.ownerID)", #"{"role": "staff"}"#),
                ("POST", "/v1/api-keys", #"{"name": "mine now", "staff_id": "\#(org.ownerID)"}"#),
                ("DELETE", "/v1/staff/\(org.ownerID)", nil),
                ("PATCH", "/v1/staff/\(admin.id)", #"{"role": "owner"}"#),
            ]
            for (method, path, body) in attempts {
                let response = try await server.request(.init(rawValue: method)!, path, key: admin.key, json: body)
                #expect(response.status == .forbidden, "\(method) \(path) \(body ?? ""): \(response.text)")
            }
            let owner = try await server.request(.get, "/v1/staff/\(org.ownerID)", key: org.ownerKey).object()
            #expect(owner["email"] as? String == "owner@brightstarsgym.example")
            #expect(owner["role"] as? String == "owner")
            #expect(
                try await server.request(.get, "/v1/api-keys", key: org.ownerKey).list().count == 2,
                "no key was made for the owner"
            )
            var browser = PortalBrowser(server)
            let token = try await browser.signInToken()
            let signedIn = try await browser.post(
                "/sign-in",
                ["_csrf": token, "email": "owner@brightstarsgym.example", "password": "correct horse battery"]
            )
            #expect(signedIn.headers[.location] == "/dashboard", "the owner's password is unchanged")
        }
    }

    @Test(arguments: stores)
    func peersAndLowerRanksFollowTheRules(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let admin = try await server.addStaff(org, role: .admin)
            let other = try await server.addStaff(org, role: .admin)
            let clerk = try await server.addStaff(org, role: .staff, permissions: [.manageSettings])
            // An admin edits a peer admin but cannot set their password.
            #expect(
                try await server.request(.patch, "/v1/staff/\(other.id)", key: admin.key, json: #"{"name": "Ola"}"#)
                    .status == .ok
            )
            let reset = try await server.request(
                .patch,
                "/v1/staff/\(other.id)",
                key: admin.key,
                json: #"{"password": "a new one for you"}"#
            )
            #expect(reset.status == .forbidden)
            // A staff member who manages settings cannot touch an admin, make one, or give what they lack.
            let outranked = try await server.request(
                .patch,
                "/v1/staff/\(admin.id)",
                key: clerk.key,
                json: #"{"name": "X"}"#
            )
            #expect(outranked.status == .forbidden)
            let promote = try await server.request(
                .post,
                "/v1/staff",
                key: clerk.key,
                json: #"{"name": "Pat", "email": "pat@example.com", "role": "admin"}"#
            )
            #expect(promote.status == .forbidden)
            #expect(promote.errorField == "role")
            let grant = try await server.request(
                .post,
                "/v1/staff",
                key: clerk.key,
                json:
                    #"{"name": "Pat", "email": "pat@example.com", "role": "staff", "permissions": ["purchase_credits"]}"#
            )
            #expect(grant.status == .forbidden)
            #expect(grant.errorField == "permissions")
            let key = try await server.request(
                .post,
                "/v1/api-keys",
                key: clerk.key,
                json: #"{"name": "k", "staff_id": "\#(admin.id)"}"#
            )
            #expect(key.status == .forbidden)
        }
    }

    @Test(arguments: stores)
    func theLastOwnerCanBeNeitherDemotedNorRemoved(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let demote = try await server.request(
                .patch,
                "/v1/staff/\(org.ownerID)",
                key: org.ownerKey,
                json: #"{"role": "admin"}"#
            )
            #expect(demote.status == .conflict)
            #expect(demote.errorCode == "last_owner")
            let second = try await server.addStaff(org, role: .owner)
            #expect(
                try await server.request(
                    .patch,
                    "/v1/staff/\(second.id)",
                    key: org.ownerKey,
                    json: #"{"role": "admin"}"#
                ).status == .ok
            )
            let again = try await server.request(
                .patch,
                "/v1/staff/\(org.ownerID)",
                key: org.ownerKey,
                json: #"{"role": "admin"}"#
            )
            #expect(again.errorCode == "last_owner", "one owner left again")
            let owners = try await server.request(.get, "/v1/staff", key: org.ownerKey).list().filter {
                $0["role"] as? String == "owner"
            }
            #expect(owners.count == 1)
        }
    }

    @Test(arguments: stores)
    func yourOwnNewPasswordNeedsYourCurrentOne(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let path = "/v1/staff/\(org.ownerID)"
            let missing = try await server.request(
                .patch,
                path,
                key: org.ownerKey,
                json: #"{"password": "a stolen key's pick"}"#
            )
            #expect(missing.errorCode == "current_password_required")
            let wrong = try await server.request(
                .patch,
                path,
                key: org.ownerKey,
                json: #"{"password": "a stolen key's pick", "current_password": "a guess at it"}"#
            )
            #expect(wrong.errorCode == "current_password_wrong")
            let right = try await server.request(
                .patch,
                path,
                key: org.ownerKey,
                json: #"{"password": "my next password", "current_password": "correct horse battery"}"#
            )
            #expect(right.status == .ok)
        }
    }

    @Test(arguments: stores)
    func anOwnerResettingSomeonesPasswordEndsTheirSessionsAndKeys(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let admin = try await server.addStaff(org, role: .admin, email: "ada@example.com")
            #expect(try await server.request(.get, "/v1/organization", key: admin.key).status == .ok)
            let reset = try await server.request(
                .patch,
                "/v1/staff/\(admin.id)",
                key: org.ownerKey,
                json: #"{"password": "a fresh start for Ada"}"#
            )
            #expect(reset.status == .ok)
            #expect(
                try await server.request(.get, "/v1/organization", key: admin.key).status == .unauthorized,
                "their key was revoked"
            )
            let log = try await server.request(.get, "/v1/audit-log?action=staff.updated", key: org.ownerKey).list()
            #expect(
                log.last?["message"] as? String
                    == "Password of Sam admin reset by API key First key (Olive Owner); their sessions were ended and their API keys revoked. Staff member Sam admin updated: password."
            )
        }
    }
}
