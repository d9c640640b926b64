import CreditsAdapters
import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

extension TestServer {
    /// Imports opted-in contacts into a group.
    func importContacts(_ org: Org, phones: [String], group: String = "families", consent: String = "opted_in")
        async throws
    {
        let rows = phones.enumerated().map { index, phone in
            ["name": "Parent \(index)", "first_name": "P\(index)", "phone": phone, "groups": [group]] as [String: Any]
        }
        let response = try await request(
            .post,
            "/v1/contacts/import",
            key: org.ownerKey,
            json: try jsonText(["contacts": rows, "consent": consent])
        )
        #expect(response.status == .created, "\(response.text)")
    }

    /// Posts a Twilio-shaped callback signed with the Simulator's token.
    @discardableResult
    func callback(_ path: String, _ parameters: [String: String], signed: Bool = true, signedFor base: String? = nil)
        async throws -> TestResponse
    {
        let token = services.simulator?.authToken ?? ""
        let signature = TwilioSignature.sign(
            url: (base ?? services.baseURL) + path,
            parameters: parameters,
            authToken: token
        )
        var fields = HTTPFields()
        fields[.contentType] = "application/x-www-form-urlencoded"
        if signed { fields[HTTPField.Name("X-Twilio-Signature")!] = signature }
        let body = FormEncoding.encode(parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        return try await client.execute(uri: path, method: .post, headers: fields, body: ByteBuffer(string: body))
    }

    /// An inbound text from `from` to the organisation's number.
    @discardableResult
    func inbound(_ org: Org, from: String, to: String? = nil, _ text: String) async throws -> TestResponse {
        var number = to ?? ""
        if to == nil { number = try await services.sendingNumbers.sendingNumber(org.id) }
        return try await callback(
            "/webhooks/simulator/inbound",
            ["MessageSid": "SMin\(UUID().uuidString.prefix(12))", "From": from, "To": number, "Body": text]
        )
    }

    /// Gives an organisation numbers directly, as an operator would (kind: local, toll_free or
    /// test; toll-free ones count as verified).
    func assignNumbers(_ org: Org, _ numbers: KeyValuePairs<String, String>) async throws {
        for (number, kind) in numbers {
            try await services.stores.numbers.assign(
                number,
                to: org.id,
                kind: kind,
                provider: "simulator",
                at: clock.now
            )
        }
    }

    func pool(_ org: Org) async throws -> [String: Any] {
        try #require(try await request(.get, "/v1/credits", key: org.ownerKey).object()["pool"] as? [String: Any])
    }

    func verifyLedger() async throws -> [LedgerViolation] {
        try await LedgerVerifier(database: services.database).verify()
    }
}
