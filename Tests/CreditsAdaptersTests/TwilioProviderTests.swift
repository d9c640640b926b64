import CreditsAdapters
import CreditsCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// The Twilio client against a local Twilio-shaped server.
@Suite struct TwilioProviderTests {
    /// What the fake server saw.
    final class Recorder: Sendable {
        let requests = Mutex<[(path: String, form: [String: String], authorization: String?)]>([])
        func add(_ path: String, _ form: [String: String], _ authorization: String?) {
            requests.withLock { $0.append((path, form, authorization)) }
        }
        var all: [(path: String, form: [String: String], authorization: String?)] { requests.withLock { $0 } }
    }

    static func fakeTwilio(_ recorder: Recorder) -> some ApplicationProtocol {
        let router = Router()
        @Sendable func json(_ object: Any, _ status: HTTPResponse.Status = .ok) throws -> Response {
            Response(
                status: status,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object)))
            )
        }
        @Sendable func form(_ request: Request) async throws -> [String: String] {
            var request = request
            return FormEncoding.decode(String(buffer: try await request.collectBody(upTo: 1 << 16)))
        }
        router.post("/2010-04-01/Accounts/:sid/Messages.json") { request, context in
            let fields = try await form(request)
            recorder.add(request.uri.path, fields, request.headers[.authorization])
            guard request.headers[.authorization] == "Basic " + Data("ACtest:secret".utf8).base64EncodedString() else {
                return try json(["code": 20003, "message": "Authenticate", "status": 401], .unauthorized)
            }
            switch fields["To"] {
            case "+15005550001":
                return try json(
                    ["code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400],
                    .badRequest
                )
            case "+15005550009":
                return try json(
                    ["code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400],
                    .badRequest
                )
            case "+15005550500": return try json(["message": "Internal error", "status": 500], .internalServerError)
            default:
                return try json(
                    [
                        "sid": "SM\(recorder.all.count)", "status": "queued", "num_segments": "2",
                        "body": fields["Body"] ?? "",
                    ],
                    .created
                )
            }
        }
        router.get("/2010-04-01/Accounts/:sid/Messages.json") { request, context in
            let to = request.uri.queryParameters.get("To")
            recorder.add(request.uri.path + "?list", [:], request.headers[.authorization])
            return try json([
                "messages": to == "+15005550123"
                    ? [["sid": "SMearlier", "body": "Hello again", "num_segments": "1"]] : []
            ])
        }
        router.post("/2010-04-01/Accounts/:sid/Calls.json") { request, context in
            var request = request
            let raw = String(buffer: try await request.collectBody(upTo: 1 << 16))
            var fields = FormEncoding.decode(raw)
            // Repeated parameters (StatusCallbackEvent) are kept in order, space-separated.
            fields["StatusCallbackEvent"] = raw.split(separator: "&").compactMap { pair -> String? in
                let parts = pair.split(separator: "=", maxSplits: 1)
                return parts.first == "StatusCallbackEvent" ? parts.last.map(String.init) : nil
            }.joined(separator: " ")
            recorder.add(request.uri.path, fields, request.headers[.authorization])
            if fields["To"] == "+15005550001" {
                return try json(
                    ["code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400],
                    .badRequest
                )
            }
            return try json(["sid": "CA\(recorder.all.count)", "status": "queued"], .created)
        }
        router.get("/2010-04-01/Accounts/:sid/Calls.json") { request, context in
            recorder.add(request.uri.path + "?list", [:], request.headers[.authorization])
            let to = request.uri.queryParameters.get("To")
            return try json([
                "calls": to == "+15005550123"
                    ? [
                        ["sid": "CAold", "date_created": "Tue, 01 Dec 2026 10:00:00 +0000"],
                        ["sid": "CAearlier", "date_created": "Sun, 06 Dec 2026 12:00:05 +0000"],
                    ] : []
            ])
        }
        router.get("/2010-04-01/Accounts/:sid/AvailablePhoneNumbers/US/Local.json") { request, context in
            let area = request.uri.queryParameters.get("AreaCode") ?? ""
            return try json(["available_phone_numbers": area == "999" ? [] : [["phone_number": "+1\(area)5550142"]]])
        }
        router.delete("/2010-04-01/Accounts/:sid/IncomingPhoneNumbers/:number") { request, context in
            recorder.add(request.uri.path, [:], request.headers[.authorization])
            guard context.parameters.get("number") == "PN1.json" else {
                return try json(
                    ["code": 20404, "message": "The requested resource was not found", "status": 404],
                    .notFound
                )
            }
            return Response(status: .noContent)
        }
        router.post("/2010-04-01/Accounts/:sid/IncomingPhoneNumbers.json") { request, context in
            let fields = try await form(request)
            recorder.add(request.uri.path, fields, request.headers[.authorization])
            return try json(["sid": "PN1", "phone_number": fields["PhoneNumber"] ?? ""], .created)
        }
        router.get("/2010-04-01/Accounts/:sid/Messages/:message/Media/:media") { request, _ in
            guard request.headers[.authorization] == "Basic " + Data("ACtest:secret".utf8).base64EncodedString() else {
                return try json(["code": 20003, "message": "Authenticate", "status": 401], .unauthorized)
            }
            return Response(
                status: .ok,
                headers: [.contentType: "image/png"],
                body: .init(byteBuffer: ByteBuffer(bytes: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]))
            )
        }
        router.post("/v1/a2p/BrandRegistrations") { request, context in
            recorder.add(request.uri.path, try await form(request), request.headers[.authorization])
            return try json(["sid": "BN1", "status": "PENDING"], .created)
        }
        router.get("/v1/a2p/BrandRegistrations/:sid") { _, _ in try json(["sid": "BN1", "status": "APPROVED"]) }
        router.post("/v1/Tollfree/Verifications") { request, context in
            recorder.add(request.uri.path, try await form(request), request.headers[.authorization])
            return try json(["sid": "HH1", "status": "PENDING_REVIEW"], .created)
        }
        router.get("/v1/Tollfree/Verifications/:sid") { _, context in
            switch context.parameters.get("sid") {
            case "HH1": try json(["sid": "HH1", "status": "TWILIO_APPROVED"])
            case "HH2":
                try json(["sid": "HH2", "status": "TWILIO_REJECTED", "rejection_reason": "Opt-in proof missing."])
            default: try json(["sid": "HH3", "status": "IN_REVIEW"])
            }
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    func provider(port: Int) -> TwilioProvider {
        TwilioProvider(
            configuration: TwilioConfiguration(
                accountSID: "ACtest",
                authToken: "secret",
                apiURL: "http://127.0.0.1:\(port)",
                messagingURL: "http://127.0.0.1:\(port)",
                customerProfileBundleSID: "BUcustomer",
                a2pProfileBundleSID: "BUa2p"
            ),
            logger: Logger(label: "test")
        )
    }

    func message(to: String, body: String = "Hello", retry: Bool = false) -> OutboundSMS {
        OutboundSMS(
            reference: "msg_1",
            from: "+15005550006",
            to: to,
            body: body,
            channel: .sms,
            statusCallback: "https://texts.example/webhooks/twilio/status?message=msg_1",
            isRetry: retry
        )
    }

    @Test func aSendPostsTheMessagesResourceWithBasicAuthAndAStatusCallback() async throws {
        let recorder = Recorder()
        try await TwilioProviderTests.fakeTwilio(recorder).test(.live) { client in
            let accepted = try await provider(port: try #require(client.port)).send(message(to: "+15005550123"))
            #expect(accepted == ProviderAcceptance(providerID: "SM1", segments: 2))
            let request = try #require(recorder.all.first)
            #expect(request.path == "/2010-04-01/Accounts/ACtest/Messages.json")
            #expect(
                request.form == [
                    "To": "+15005550123", "From": "+15005550006", "Body": "Hello",
                    "StatusCallback": "https://texts.example/webhooks/twilio/status?message=msg_1",
                ]
            )
            #expect(request.authorization == "Basic QUN0ZXN0OnNlY3JldA==")
        }
    }

    @Test func aPictureMessageSendsItsMediaURLAndReceivedMediaIsFetchedWithTheAccountsCredentials() async throws {
        let recorder = Recorder()
        try await TwilioProviderTests.fakeTwilio(recorder).test(.live) { client in
            let port = try #require(client.port)
            var picture = message(to: "+15005550123", body: "Closed today")
            picture.channel = .mms
            picture.mediaURLs = ["https://texts.example/media/med_1?expires=1&signature=abc"]
            _ = try await provider(port: port).send(picture)
            #expect(recorder.all.first?.form["MediaUrl"] == "https://texts.example/media/med_1?expires=1&signature=abc")
            let url = "http://127.0.0.1:\(port)/2010-04-01/Accounts/ACtest/Messages/MM1/Media/ME1"
            let bytes = try await provider(port: port).fetchMedia(url)
            #expect(bytes.prefix(4) == [0x89, 0x50, 0x4E, 0x47])
            await #expect(throws: ProviderError.self, "only Twilio's own host is fetched with the credentials") {
                _ = try await provider(port: port).fetchMedia("http://example.com/steal")
            }
        }
        let inbound = WebhookParameters.inbound([
            "MessageSid": "MM2", "From": "+1", "To": "+2", "Body": "", "NumMedia": "2",
            "MediaUrl0": "https://api.twilio.com/a", "MediaUrl1": "https://api.twilio.com/b",
        ])
        #expect(inbound?.mediaURLs == ["https://api.twilio.com/a", "https://api.twilio.com/b"])
        let wild = WebhookParameters.inbound([
            "MessageSid": "MM3", "From": "+1", "To": "+2", "NumMedia": "99999", "MediaUrl0": "https://api.twilio.com/a",
        ])
        #expect(wild?.mediaURLs == ["https://api.twilio.com/a"], "NumMedia from outside is range-checked")
    }

    @Test func errorCodesAreMapped() async throws {
        let recorder = Recorder()
        try await TwilioProviderTests.fakeTwilio(recorder).test(.live) { client in
            let twilio = provider(port: try #require(client.port))
            await #expect(
                throws: ProviderError(
                    kind: .invalidNumber,
                    code: "21211",
                    message: "The 'To' number is not a valid phone number."
                )
            ) {
                try await twilio.send(message(to: "+15005550001"))
            }
            await #expect(
                throws: ProviderError(
                    kind: .optedOut,
                    code: "21610",
                    message: "Attempt to send to unsubscribed recipient"
                )
            ) {
                try await twilio.send(message(to: "+15005550009"))
            }
            do {
                _ = try await twilio.send(message(to: "+15005550500"))
                Issue.record("a 500 must throw")
            } catch let error as ProviderError {
                #expect(error.kind == .temporary)
                #expect(!error.isPermanent)
            }
            #expect(TwilioProvider.error(code: "30003", status: 200, message: "").kind == .invalidNumber)
            #expect(TwilioProvider.error(code: "20429", status: 429, message: "").kind == .rateLimited)
        }
    }

    @Test func aRetryAdoptsTheMessageTwilioAlreadyHasInsteadOfSendingTwice() async throws {
        let recorder = Recorder()
        try await TwilioProviderTests.fakeTwilio(recorder).test(.live) { client in
            let accepted = try await provider(port: try #require(client.port)).send(
                message(to: "+15005550123", body: "Hello again", retry: true)
            )
            #expect(accepted.providerID == "SMearlier")
            #expect(recorder.all.map(\.path).allSatisfy { $0.hasSuffix("?list") }, "no second POST")
        }
    }

    @Test func brandsAndNumbersAreRegistered() async throws {
        let recorder = Recorder()
        try await TwilioProviderTests.fakeTwilio(recorder).test(.live) { client in
            let twilio = provider(port: try #require(client.port))
            let brand = BrandRegistration(
                legalName: "A",
                taxID: "1",
                website: "w",
                email: "e",
                phone: "p",
                street: "s",
                city: "c",
                region: "r",
                postalCode: "z",
                vertical: "v"
            )
            let id = try await twilio.registerBrand(brand)
            #expect(id == "BN1")
            #expect(recorder.all.last?.form["CustomerProfileBundleSid"] == "BUcustomer")
            #expect(try await twilio.brandState(id, submittedAt: Date(), now: Date()) == .completed(number: nil))
            let request = try await twilio.requestNumber(areaCode: "512", tollFree: false)
            #expect(
                try await twilio.numberState(request, requestedAt: Date(), now: Date())
                    == .completed(number: "+15125550142")
            )
            let none = try await twilio.requestNumber(areaCode: "999", tollFree: false)
            guard case .failed(let reason, _) = try await twilio.numberState(none, requestedAt: Date(), now: Date())
            else {
                Issue.record("no numbers must fail")
                return
            }
            #expect(reason == "no_numbers")
            // Released: the IncomingPhoneNumber is deleted; one Twilio no longer has counts as released.
            try await twilio.releaseNumber(numberRequest: request)
            #expect(recorder.all.last?.path == "/2010-04-01/Accounts/ACtest/IncomingPhoneNumbers/PN1.json")
            try await twilio.releaseNumber(numberRequest: "PN2|+15125550143")
        }
    }

    @Test func aTollFreeNumberIsSubmittedForVerificationAndItsAnswerRead() async throws {
        let recorder = Recorder()
        try await TwilioProviderTests.fakeTwilio(recorder).test(.live) { client in
            let twilio = provider(port: try #require(client.port))
            let verification = TollFreeVerification(
                businessName: "Bright Stars Gym",
                website: "https://brightstars.example",
                notificationEmail: "owner@brightstars.example",
                useCaseSummary: "Class schedules for families who opted in.",
                messageSample: "Bright Stars Gym: practice moves to 5pm. Reply STOP to opt out.",
                optInURL: "https://texts.example/join/org_1",
                messageVolume: "1,000"
            )
            let id = try await twilio.verifyTollFree(numberRequest: "PN123|+18885550142", verification)
            #expect(id == "HH1")
            let sent = try #require(recorder.all.last)
            #expect(sent.path == "/v1/Tollfree/Verifications")
            #expect(sent.form["TollfreePhoneNumberSid"] == "PN123" && sent.form["BusinessName"] == "Bright Stars Gym")
            #expect(
                sent.form["OptInImageUrls"] == "https://texts.example/join/org_1"
                    && sent.form["OptInType"] == "WEB_FORM"
            )
            #expect(sent.form["ProductionMessageSample"]?.contains("Reply STOP") == true)
            #expect(
                try await twilio.tollFreeVerificationState("HH1", submittedAt: Date(), now: Date())
                    == .completed(number: nil)
            )
            #expect(
                try await twilio.tollFreeVerificationState("HH2", submittedAt: Date(), now: Date())
                    == .failed(
                        reason: "rejected",
                        message: "Toll-free verification was rejected: Opt-in proof missing."
                    )
            )
            #expect(try await twilio.tollFreeVerificationState("HH3", submittedAt: Date(), now: Date()) == .pending)
        }
    }

    @Test func webhookParametersAreRead() {
        let report = WebhookParameters.statusReport([
            "MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003", "NumSegments": "2",
        ])
        #expect(
            report
                == StatusReport(
                    providerID: "SM1",
                    status: .undelivered,
                    errorCode: "30003",
                    errorMessage: nil,
                    segments: 2
                )
        )
        #expect(WebhookParameters.statusReport(["MessageSid": "SM1", "MessageStatus": "exploded"]) == nil)
        #expect(
            WebhookParameters.inbound(["MessageSid": "SM2", "From": "+1", "To": "+2", "Body": "STOP"])
                == InboundSMS(providerID: "SM2", from: "+1", to: "+2", body: "STOP")
        )
        #expect(FormEncoding.decode("A=1&B=a+b%26c&C=") == ["A": "1", "B": "a b&c", "C": ""])
        #expect(FormEncoding.decode(FormEncoding.encode([("Body", "Ça & 😀 = ok")])) == ["Body": "Ça & 😀 = ok"])
    }

    @Test func theSimulatorDecidesOutcomesByDestination() {
        #expect(SimulatorProvider.outcome(for: "+14155550001").0 == .failed)
        #expect(SimulatorProvider.outcome(for: "+14155550002").0 == .undelivered)
        #expect(SimulatorProvider.outcome(for: "+14155550003").0 == .delivered)
    }
}
