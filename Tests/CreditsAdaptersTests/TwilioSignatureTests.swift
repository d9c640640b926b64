import CreditsAdapters
import Foundation
import Testing

/// `testdata/twilio-signature.json`: a validator accepts the request signed with or without the
/// explicit default port, and nothing else.
@Suite struct TwilioSignatureTests {
    struct Vector: Decodable, Sendable {
        let authToken: String
        let url: String
        let params: [String: String]
        let signature: String
        let valid: Bool
        enum CodingKeys: String, CodingKey {
            case url, params, signature, valid
            case authToken = "auth_token"
        }
    }

    static let vectors: [Vector] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Fixtures/twilio-signature.json"
        )
        struct File: Decodable { let cases: [Vector] }
        guard let data = try? Data(contentsOf: url), let file = try? JSONDecoder().decode(File.self, from: data) else {
            return []
        }
        return file.cases
    }()

    @Test func theVectorsAreRead() { #expect(TwilioSignatureTests.vectors.count == 2) }

    @Test(arguments: vectors)
    func vectorsValidate(_ vector: Vector) {
        #expect(
            TwilioSignature.isValid(
                signature: vector.signature,
                url: vector.url,
                parameters: vector.params,
                authToken: vector.authToken
            )
                == vector.valid
        )
        // The other port form of the same URL is accepted too.
        let other =
            vector.url.contains(":443")
            ? vector.url.replacingOccurrences(of: ":443", with: "")
            : vector.url.replacingOccurrences(of: ".com/", with: ".com:443/")
        #expect(
            TwilioSignature.isValid(
                signature: vector.signature,
                url: other,
                parameters: vector.params,
                authToken: vector.authToken
            )
        )
    }

    @Test(arguments: vectors)
    func anyChangeInvalidatesTheSignature(_ vector: Vector) {
        var changed = vector.params
        changed["Digits"] = "9999"
        #expect(
            !TwilioSignature.isValid(
                signature: vector.signature,
                url: vector.url,
                parameters: changed,
                authToken: vector.authToken
            )
        )
        #expect(
            !TwilioSignature.isValid(
                signature: vector.signature,
                url: vector.url,
                parameters: vector.params,
                authToken: "54321"
            )
        )
        #expect(
            !TwilioSignature.isValid(
                signature: vector.signature,
                url: vector.url + "&x=1",
                parameters: vector.params,
                authToken: vector.authToken
            )
        )
        #expect(
            !TwilioSignature.isValid(
                signature: nil,
                url: vector.url,
                parameters: vector.params,
                authToken: vector.authToken
            )
        )
    }

    @Test func signingMatchesTheFirstVector() throws {
        let vector = try #require(TwilioSignatureTests.vectors.first)
        #expect(
            TwilioSignature.sign(url: vector.url, parameters: vector.params, authToken: vector.authToken)
                == vector.signature
        )
    }
}
