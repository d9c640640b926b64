import AsyncHTTPClient
import CreditsCore
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Twilio's credentials and addresses.
public struct TwilioConfiguration: Sendable {
    public var accountSID: String
    public var authToken: String
    /// The REST API (https://api.twilio.com); tests point it at a local server.
    public var apiURL: String
    /// The Messaging API for A2P brand registration (https://messaging.twilio.com).
    public var messagingURL: String
    /// TrustHub bundles the brand registration refers to (created in the Twilio console).
    public var customerProfileBundleSID: String?
    public var a2pProfileBundleSID: String?

    public init(
        accountSID: String,
        authToken: String,
        apiURL: String = "https://api.twilio.com",
        messagingURL: String = "https://messaging.twilio.com",
        customerProfileBundleSID: String? = nil,
        a2pProfileBundleSID: String? = nil
    ) {
        self.accountSID = accountSID
        self.authToken = authToken
        self.apiURL = apiURL
        self.messagingURL = messagingURL
        self.customerProfileBundleSID = customerProfileBundleSID
        self.a2pProfileBundleSID = a2pProfileBundleSID
    }
}

/// The Twilio REST API: Messages (form-encoded, basic auth, StatusCallback), A2P brand
/// registrations, and phone numbers by area code.
public struct TwilioProvider: SMSProvider {
    public let name = "twilio"
    /// Twilio queues what an account sends beyond its rate; more parallel requests only add
    /// connections, not throughput.
    public let sendConcurrencyMax = 64
    let configuration: TwilioConfiguration
    let httpClient: HTTPClient
    let logger: Logger

    public init(configuration: TwilioConfiguration, httpClient: HTTPClient = .shared, logger: Logger) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.logger = logger
    }

    var accountPath: String { "\(configuration.apiURL)/2010-04-01/Accounts/\(configuration.accountSID)" }

    public func send(_ message: OutboundSMS) async throws(ProviderError) -> ProviderAcceptance {
        if message.isRetry, let existing = try await existingMessage(like: message) { return existing }
        let form =
            [
                ("To", message.to), ("From", message.from), ("Body", message.body),
                ("StatusCallback", message.statusCallback),
            ] + message.mediaURLs.map { ("MediaUrl", $0) }
        let json = try await call(.POST, "\(accountPath)/Messages.json", form: form)
        guard let sid = json["sid"] as? String else {
            throw ProviderError(kind: .temporary, code: "no_sid", message: "Twilio did not return a message sid.")
        }
        return ProviderAcceptance(providerID: sid, segments: TwilioProvider.segments(json["num_segments"]))
    }

    /// After a crash a message may already have reached Twilio: look for the same text to the
    /// same number from the same sender in the last day before sending it again.
    func existingMessage(like message: OutboundSMS) async throws(ProviderError) -> ProviderAcceptance? {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let since = formatter.string(from: Date().addingTimeInterval(-86_400))
        let query = FormEncoding.encode([
            ("To", message.to), ("From", message.from), ("DateSent>", since), ("PageSize", "50"),
        ])
        let json = try await call(.GET, "\(accountPath)/Messages.json?\(query)", form: nil)
        let messages = json["messages"] as? [[String: Any]] ?? []
        guard let match = messages.first(where: { $0["body"] as? String == message.body }),
            let sid = match["sid"] as? String
        else { return nil }
        return ProviderAcceptance(providerID: sid, segments: TwilioProvider.segments(match["num_segments"]))
    }

    /// Creates a call through the Calls API: Twilio fetches `Url` for its TwiML once answered,
    /// ends it at `TimeLimit` seconds, reports the progress events to `StatusCallback`, and detects
    /// answering machines when asked.
    public func placeCall(_ call: OutboundCall) async throws(ProviderError) -> String {
        if call.isRetry, let existing = try await existingCall(like: call) { return existing }
        var form: [(String, String)] = [
            ("To", call.to), ("From", call.from), ("Url", call.answerURL), ("Method", "POST"),
            ("StatusCallback", call.statusCallback), ("StatusCallbackMethod", "POST"),
            ("TimeLimit", String(call.timeLimit)),
        ]
        form += OutboundCall.statusEvents.map { ("StatusCallbackEvent", $0) }
        if let detection = call.twilioMachineDetection { form.append(("MachineDetection", detection)) }
        let json = try await self.call(.POST, "\(accountPath)/Calls.json", form: form)
        guard let sid = json["sid"] as? String else {
            throw ProviderError(kind: .temporary, code: "no_sid", message: "Twilio did not return a call sid.")
        }
        return sid
    }

    /// After a crash a call may already have been created: look for a call to the same number
    /// from the same number created since ours was queued before ringing them again.
    func existingCall(like call: OutboundCall) async throws(ProviderError) -> String? {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let since = formatter.string(from: Date().addingTimeInterval(-86_400))
        let query = FormEncoding.encode([
            ("To", call.to), ("From", call.from), ("StartTime>", since), ("PageSize", "20"),
        ])
        let json = try await self.call(.GET, "\(accountPath)/Calls.json?\(query)", form: nil)
        let created = DateFormatter()
        created.locale = Locale(identifier: "en_US_POSIX")
        created.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let calls = json["calls"] as? [[String: Any]] ?? []
        let match = calls.first { found in
            guard let text = found["date_created"] as? String, let date = created.date(from: text) else { return false }
            return date >= call.queuedAt.addingTimeInterval(-1)
        }
        return match?["sid"] as? String
    }

    public func isAuthentic(url: String, parameters: [String: String], signature: String?) -> Bool {
        TwilioSignature.isValid(
            signature: signature,
            url: url,
            parameters: parameters,
            authToken: configuration.authToken
        )
    }

    public func registerBrand(_ brand: BrandRegistration) async throws(ProviderError) -> String {
        guard let customer = configuration.customerProfileBundleSID, let a2p = configuration.a2pProfileBundleSID else {
            throw ProviderError(
                kind: .rejected,
                code: "bundles_missing",
                message: "Set the TrustHub customer and A2P profile bundles for this Twilio account first."
            )
        }
        let json = try await call(
            .POST,
            "\(configuration.messagingURL)/v1/a2p/BrandRegistrations",
            form: [("CustomerProfileBundleSid", customer), ("A2PProfileBundleSid", a2p), ("BrandType", "STANDARD")]
        )
        guard let sid = json["sid"] as? String else {
            throw ProviderError(kind: .temporary, code: "no_sid", message: "Twilio did not return a brand sid.")
        }
        return sid
    }

    public func brandState(_ id: String, submittedAt: Date, now: Date) async throws(ProviderError) -> RegistrationState
    {
        let json = try await call(.GET, "\(configuration.messagingURL)/v1/a2p/BrandRegistrations/\(id)", form: nil)
        switch (json["status"] as? String ?? "").uppercased() {
        case "APPROVED", "REGISTERED": return .completed(number: nil)
        case "FAILED":
            let reason = json["failure_reason"] as? String ?? "Brand registration failed."
            let code = reason.lowercased().contains("tax") ? "tax_id_mismatch" : "failed"
            return .failed(reason: code, message: reason)
        default:
            return now.timeIntervalSince(submittedAt) > 14 * 86_400
                ? .failed(reason: "timeout", message: nil) : .pending
        }
    }

    /// Finds a number in the area code and buys it; the request id carries the number.
    public func requestNumber(areaCode: String, tollFree: Bool) async throws(ProviderError) -> String {
        let search = try await call(
            .GET,
            "\(accountPath)/AvailablePhoneNumbers/US/\(tollFree ? "TollFree" : "Local").json?AreaCode=\(areaCode)&SmsEnabled=true",
            form: nil
        )
        guard let first = (search["available_phone_numbers"] as? [[String: Any]])?.first,
            let number = first["phone_number"] as? String
        else {
            return "none-\(areaCode)"
        }
        let bought = try await call(.POST, "\(accountPath)/IncomingPhoneNumbers.json", form: [("PhoneNumber", number)])
        return "\(bought["sid"] as? String ?? "PN")|\(bought["phone_number"] as? String ?? number)"
    }

    public func numberState(_ id: String, requestedAt: Date, now: Date) async throws(ProviderError) -> RegistrationState
    {
        if id.hasPrefix("none-") {
            return .failed(
                reason: "no_numbers",
                message: "No phone numbers are available in that area code; try another."
            )
        }
        return .completed(number: id.split(separator: "|").last.map(String.init))
    }

    /// Deletes the IncomingPhoneNumber `requestNumber` bought (its SID, before the "|"); a 404 means
    /// it was given back already.
    public func releaseNumber(numberRequest: String) async throws(ProviderError) {
        let sid = String(numberRequest.split(separator: "|").first ?? "")
        guard sid.hasPrefix("PN"), sid.count > 2, sid.allSatisfy({ $0.isLetter || $0.isNumber }) else { return }
        do {
            _ = try await call(.DELETE, "\(accountPath)/IncomingPhoneNumbers/\(sid).json", form: nil)
        } catch {
            if error.code == "20404" || error.code == "404" { return }
            throw error
        }
    }

    /// Submits the number (the SID `requestNumber` bought, before the "|") to Twilio's toll-free
    /// verification.
    public func verifyTollFree(numberRequest: String, _ verification: TollFreeVerification) async throws(ProviderError)
        -> String
    {
        let numberSID = String(numberRequest.split(separator: "|").first ?? "")
        let json = try await call(
            .POST,
            "\(configuration.messagingURL)/v1/Tollfree/Verifications",
            form: [
                ("TollfreePhoneNumberSid", numberSID), ("BusinessName", verification.businessName),
                ("BusinessWebsite", verification.website), ("NotificationEmail", verification.notificationEmail),
                ("UseCaseCategories", "ACCOUNT_NOTIFICATIONS"), ("UseCaseSummary", verification.useCaseSummary),
                ("ProductionMessageSample", verification.messageSample), ("OptInImageUrls", verification.optInURL),
                ("OptInType", "WEB_FORM"), ("MessageVolume", verification.messageVolume),
            ]
        )
        guard let sid = json["sid"] as? String else {
            throw ProviderError(kind: .temporary, code: "no_sid", message: "Twilio did not return a verification sid.")
        }
        return sid
    }

    /// TWILIO_APPROVED and TWILIO_REJECTED decide; PENDING_REVIEW and IN_REVIEW wait.
    public func tollFreeVerificationState(_ id: String, submittedAt: Date, now: Date) async throws(ProviderError)
        -> RegistrationState
    {
        let json = try await call(.GET, "\(configuration.messagingURL)/v1/Tollfree/Verifications/\(id)", form: nil)
        switch (json["status"] as? String ?? "").uppercased() {
        case "TWILIO_APPROVED": return .completed(number: nil)
        case "TWILIO_REJECTED":
            let reason = json["rejection_reason"] as? String ?? "The carriers did not approve the toll-free number."
            return .failed(reason: "rejected", message: "Toll-free verification was rejected: \(reason)")
        default: return .pending
        }
    }

    // MARK: HTTP

    /// One REST call; errors are mapped to `ProviderError` by Twilio's error code.
    func call(_ method: HTTPMethod, _ url: String, form: [(String, String)]?) async throws(ProviderError) -> [String:
        Any]
    {
        var request = HTTPClientRequest(url: url)
        request.method = method
        let credentials = Data("\(configuration.accountSID):\(configuration.authToken)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        request.headers.add(name: "Accept", value: "application/json")
        if let form {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: FormEncoding.encode(form)))
        }
        let status: Int
        let body: ByteBuffer
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(15))
            status = Int(response.status.code)
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw ProviderError(kind: .temporary, code: "network", message: "Twilio could not be reached: \(error)")
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]) ?? [:]
        guard (200..<300).contains(status) else {
            let code = TwilioProvider.integer(json["code"]).map(String.init) ?? String(status)
            throw TwilioProvider.error(
                code: code,
                status: status,
                message: json["message"] as? String ?? "Twilio answered \(status)."
            )
        }
        return json
    }

    /// A received picture's bytes: Twilio keeps them at the MediaUrl it sent, readable with the
    /// account's credentials (only URLs on the configured API host are fetched with them).
    public func fetchMedia(_ url: String) async throws(ProviderError) -> [UInt8] {
        guard let host = URL(string: url)?.host, host == URL(string: configuration.apiURL)?.host else {
            throw ProviderError(kind: .rejected, code: "media_host", message: "The media URL is not on Twilio's host.")
        }
        var request = HTTPClientRequest(url: url)
        let credentials = Data("\(configuration.accountSID):\(configuration.authToken)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(8))
            guard (200..<300).contains(Int(response.status.code)) else {
                throw ProviderError(
                    kind: .temporary,
                    code: String(response.status.code),
                    message: "Twilio answered \(response.status.code) for the media."
                )
            }
            let body = try await response.body.collect(upTo: MediaLimits.bytesPerMessage + 1)
            return Array(buffer: body)
        } catch let error as ProviderError {
            throw error
        } catch {
            throw ProviderError(kind: .temporary, code: "network", message: "The media could not be fetched: \(error)")
        }
    }

    /// Twilio's error codes as provider errors.
    public static func error(code: String, status: Int, message: String) -> ProviderError {
        let kind: ProviderError.Kind
        switch code {
        case "21211", "21614", "30005", "30006", "21408": kind = .invalidNumber
        case "21610": kind = .optedOut
        case "30003": kind = .invalidNumber
        case "30004", "30007", "21612", "30034": kind = .rejected
        case "20429", "14107", "30022": kind = .rateLimited
        case "20003", "20005": kind = .authentication
        default: kind = status == 429 ? .rateLimited : (status >= 500 ? .temporary : .rejected)
        }
        return ProviderError(kind: kind, code: code, message: message)
    }

    /// A segment count from Twilio's JSON, or nil when it is missing or out of range.
    static func segments(_ value: Any?) -> Int? {
        if let number = value as? Int { return ProviderSegments.range.contains(number) ? number : nil }
        return ProviderSegments.parse(value as? String)
    }

    static func integer(_ value: Any?) -> Int? {
        if let number = value as? Int { return number }
        if let text = value as? String { return Int(text) }
        return nil
    }
}
