import CreditsCore
import CreditsServer
import CreditsServices
import Foundation
import TestSupport
import Testing

/// SETTINGS>SETUP>GENERAL SETTINGS>SMS: brand, then a number by area code, with the Simulator.
@Suite struct RegistrationTests {
    static let stores = TestDatabase.available
    static let brand =
        #"{"legal_name": "Bright Stars Gym LLC", "tax_id": "12-3456789", "website": "https://brightstars.example", "email": "office@brightstars.example", "phone": "+14155550100", "street": "1 Main St", "city": "Austin", "region": "TX", "postal_code": "78701", "vertical": "education"}"#

    @Test(arguments: stores)
    func aBrandRegistersAndANumberIsAssigned(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let submitted = try await server.request(
                .post,
                "/v1/sms/brand",
                key: org.ownerKey,
                json: RegistrationTests.brand
            )
            #expect(submitted.status == .created, "\(submitted.text)")
            #expect((try submitted.object()["brand"] as? [String: Any])?["status"] as? String == "pending")
            let number = try await server.request(
                .post,
                "/v1/sms/numbers",
                key: org.ownerKey,
                json: #"{"area_code": "512"}"#
            )
            #expect(
                (try number.object()["number_requests"] as? [[String: Any]])?.first?["status"] as? String == "pending"
            )
            try await server.services.registration.poll()
            #expect(
                (try await server.request(.get, "/v1/sms/setup", key: org.ownerKey).object()["brand"] as? [String: Any])?[
                    "status"
                ] as? String == "pending"
            )
            server.clock.advance(3)
            try await server.services.registration.poll()
            let setup = try await server.request(.get, "/v1/sms/setup", key: org.ownerKey).object()
            #expect((setup["brand"] as? [String: Any])?["status"] as? String == "registered")
            let numbers = try #require(setup["numbers"] as? [[String: Any]])
            #expect(numbers.first?["kind"] as? String == "local")
            #expect((numbers.first?["number"] as? String)?.hasPrefix("+1512555") == true)
            #expect(
                try await server.services.sendingNumbers.sendingNumber(org.id) == numbers.first?["number"] as? String,
                "the assigned number sends"
            )
        }
    }

    @Test(arguments: stores)
    func aTaxIDMismatchFailsWithAMessageAndResetBrandClearsIt(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let missing = try await server.request(
                .post,
                "/v1/sms/brand",
                key: org.ownerKey,
                json: RegistrationTests.brand.replacingOccurrences(of: "Austin", with: " ")
            )
            #expect(missing.status == .unprocessableContent)
            #expect(missing.errorField == "city")
            let bad = RegistrationTests.brand.replacingOccurrences(of: "12-3456789", with: "00-0000000")
            _ = try await server.request(.post, "/v1/sms/brand", key: org.ownerKey, json: bad)
            server.clock.advance(3)
            try await server.services.registration.poll()
            let brand = try #require(
                try await server.request(.get, "/v1/sms/setup", key: org.ownerKey).object()["brand"] as? [String: Any]
            )
            #expect(brand["status"] as? String == "failed")
            #expect(brand["failure_reason"] as? String == "tax_id_mismatch")
            #expect((brand["failure_message"] as? String)?.contains("Tax ID") == true)
            let reset = try await server.request(.post, "/v1/sms/brand/reset", key: org.ownerKey)
            #expect(try reset.object()["brand"] == nil)
            #expect(
                try await server.request(.post, "/v1/sms/brand", key: org.ownerKey, json: RegistrationTests.brand)
                    .status == .created
            )
        }
    }

    @Test(arguments: stores)
    func aTimeoutFailsWithoutAMessageAndSelfSignupIsUSOnly(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            _ = try await server.request(
                .post,
                "/v1/sms/brand",
                key: org.ownerKey,
                json: RegistrationTests.brand.replacingOccurrences(of: "Bright Stars Gym LLC", with: "Timeout Test LLC")
            )
            server.clock.advance(3)
            try await server.services.registration.poll()
            let brand = try #require(
                try await server.request(.get, "/v1/sms/setup", key: org.ownerKey).object()["brand"] as? [String: Any]
            )
            #expect(brand["status"] as? String == "failed")
            #expect(brand["failure_reason"] as? String == "timeout")
            #expect(brand["failure_message"] == nil)
            let uk = try await server.makeOrganization("London Dance", country: .gb)
            let refused = try await server.request(
                .post,
                "/v1/sms/brand",
                key: uk.ownerKey,
                json: RegistrationTests.brand
            )
            #expect(refused.status == .conflict)
            #expect(refused.errorCode == "not_self_serve")
        }
    }
}
