import AsyncHTTPClient
import CreditsCore
import Foundation
import Logging
import NIOCore

/// Where the Simulator keeps what it accepted (the server stores it in its database).
public protocol SimulatorLog: Sendable {
    /// Records a message, or returns the one already recorded for its reference.
    func accept(_ message: SimulatedMessage) async throws -> SimulatedMessage
    /// Notes that a message's callback reached the server.
    func callbackDelivered(providerID: String) async throws
    /// Messages whose callback has not reached the server yet (resumed after a restart).
    func pendingCallbacks(limit: Int) async throws -> [SimulatedMessage]
    /// Media kept for a simulated inbound picture message, by its SHA-256.
    func media(_ sha256: String) async throws -> [UInt8]?
    /// Records a placed call, or returns the one already recorded for its reference.
    func acceptCall(_ call: SimulatedCall) async throws -> (SimulatedCall, fresh: Bool)
    /// Notes that a call's flow finished (its last callback reached the server).
    func callFinished(providerID: String) async throws
    /// Calls whose flow has not finished (resumed after a restart).
    func pendingCalls(limit: Int) async throws -> [SimulatedCall]
    /// Keeps bytes the Simulator's provider side holds (a voicemail recording); returns their SHA-256.
    func keepMedia(_ bytes: [UInt8], kind: MediaKind) async throws -> String
    /// Writes what the log keeps back for a later write; the Simulator's last step when it stops.
    func flush() async
}

extension SimulatorLog {
    /// A log that writes everything at once keeps nothing back.
    public func flush() async {}
}

/// The built-in provider: accepts every send, then reports the outcome to the server's own
/// status webhook, signed like Twilio. Outcome by destination: numbers ending in 0001 fail
/// (invalid number), ending in 0002 end undelivered (unreachable), ending in 0007 are filtered by
/// the carrier unless sent from a toll-free number, all others are delivered.
/// Brand and number registrations complete after `registrationDelay`; documented inputs fail.
public final class SimulatorProvider: SMSProvider {
    public let name = "simulator"
    /// In-process and batched into few transactions: the more at once, the bigger the batches.
    public let sendConcurrencyMax = 256
    public let authToken: String
    let log: any SimulatorLog
    let callbacks: SimulatorCallbacks
    /// The Simulator's telephone network (voice calls).
    public let voice: SimulatorVoice
    let registrationDelay: TimeInterval

    public init(
        authToken: String,
        log: any SimulatorLog,
        callbackDelay: Duration = .seconds(1),
        registrationDelay: TimeInterval = 3,
        logger: Logger
    ) {
        self.authToken = authToken
        self.log = log
        self.registrationDelay = registrationDelay
        self.callbacks = SimulatorCallbacks(authToken: authToken, delay: callbackDelay, log: log, logger: logger)
        self.voice = SimulatorVoice(authToken: authToken, delay: callbackDelay, log: log, logger: logger)
    }

    /// Delivers callbacks until cancelled (the server runs it as a service).
    public func run() async {
        // Its own client with many connections to the one server it calls back, made only
        // while it runs (an idle Simulator in tests or commands holds no client).
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: SimulatorCallbacks.concurrencyMax
        )
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        async let texts: Void = callbacks.run(using: client)
        async let calls: Void = voice.run(using: client)
        _ = await (texts, calls)
        try? await client.shutdown()
        await log.flush()
    }

    /// The outcome the Simulator reports for a destination (and the number a text comes from):
    /// numbers ending in 0001 fail, 0002 end undelivered, and 0007 are filtered by the carrier
    /// (undelivered, 30007) unless the text comes from a toll-free number.
    public static func outcome(for number: String, from sender: String = "") -> (MessageStatus, String?) {
        if number.hasSuffix("0001") { return (.failed, "30005") }
        if number.hasSuffix("0002") { return (.undelivered, "30003") }
        if number.hasSuffix("0007"), !PhoneNumber.isTollFree(sender) { return (.undelivered, "30007") }
        return (.delivered, nil)
    }

    public func send(_ message: OutboundSMS) async throws(ProviderError) -> ProviderAcceptance {
        let (outcome, errorCode) = SimulatorProvider.outcome(for: message.to, from: message.from)
        let segments = message.channel == .mms ? 1 : max(1, Segmenter.segment(message.body).segments)
        var candidate = SimulatedMessage(
            reference: message.reference,
            providerID: "SM"
                + String(decoding: message.reference.utf8.filter { $0 != UInt8(ascii: "_") }, as: UTF8.self),
            from: message.from,
            to: message.to,
            body: message.body,
            outcome: outcome,
            errorCode: errorCode,
            segments: segments,
            statusCallback: message.statusCallback,
            attempts: 1
        )
        candidate.mediaURLs = message.mediaURLs
        let recorded: SimulatedMessage
        do {
            recorded = try await log.accept(candidate)
        } catch {
            throw ProviderError(
                kind: .temporary,
                code: "simulator_log",
                message: "The simulator could not record the message."
            )
        }
        await callbacks.enqueue(recorded)
        return ProviderAcceptance(providerID: recorded.providerID, segments: recorded.segments)
    }

    public func isAuthentic(url: String, parameters: [String: String], signature: String?) -> Bool {
        TwilioSignature.isValid(signature: signature, url: url, parameters: parameters, authToken: authToken)
    }

    /// Someone calls `to` from `from`: the Simulator asks `server`'s signed voice webhook what to
    /// do and follows it to the end (see `SimulatorVoice.receive`); returns the call's sid.
    public func receiveCall(from: String, to: String, server: String, client: HTTPClient = .shared) async throws
        -> String
    {
        let base = server.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/webhooks/\(name)/voice"
        return try await SimulatorVoice.receive(
            from: from,
            to: to,
            voiceURL: base + "/incoming",
            statusCallback: base + "/status",
            log: log,
            web: SignedPoster(authToken: authToken, client: client)
        )
    }

    /// Plays a placed call through on `web` (tests drive the Simulator's network this way,
    /// without HTTP); returns when its last callback was answered.
    public func complete(_ call: SimulatedCall, web: some CallbackPoster) async throws {
        try await SimulatorVoice.run(call, web: web, log: log)
        try await log.callFinished(providerID: call.providerID)
    }

    /// Someone calls `to` from `from` on `web` (tests); returns the call's sid.
    public func receiveCall(from: String, to: String, base: String, web: some CallbackPoster) async throws -> String {
        try await SimulatorVoice.receive(
            from: from,
            to: to,
            voiceURL: base + "/webhooks/\(name)/voice/incoming",
            statusCallback: base + "/webhooks/\(name)/voice/status",
            log: log,
            web: web
        )
    }

    /// Places a call on the simulated network (`SimulatedPhone` decides who answers); the same
    /// reference never rings anyone twice.
    public func placeCall(_ call: OutboundCall) async throws(ProviderError) -> String {
        let candidate = SimulatedCall(
            reference: call.reference,
            providerID: "CA" + String(decoding: call.reference.utf8.filter { $0 != UInt8(ascii: "_") }, as: UTF8.self),
            from: call.from,
            to: call.to,
            timeLimit: call.timeLimit,
            machineDetection: call.machineDetection,
            answerURL: call.answerURL,
            statusCallback: call.statusCallback,
            expectedSeconds: call.expectedSeconds
        )
        let recorded: (SimulatedCall, fresh: Bool)
        do {
            recorded = try await log.acceptCall(candidate)
        } catch {
            throw ProviderError(
                kind: .temporary,
                code: "simulator_log",
                message: "The simulator could not record the call."
            )
        }
        if recorded.fresh { await voice.enqueue(recorded.0) }
        return recorded.0.providerID
    }

    /// The prefix of a simulated inbound picture's MediaUrl: `simulator-media:` and the SHA-256
    /// of bytes already in the database (`textcredits simulate inbound --media FILE` puts them there).
    public static let mediaScheme = "simulator-media:"

    public func fetchMedia(_ url: String) async throws(ProviderError) -> [UInt8] {
        guard url.hasPrefix(SimulatorProvider.mediaScheme) else {
            throw ProviderError(kind: .rejected, code: "media_url", message: "The Simulator keeps no media at \(url).")
        }
        let found: [UInt8]?
        do {
            found = try await log.media(String(url.dropFirst(SimulatorProvider.mediaScheme.count)))
        } catch {
            throw ProviderError(
                kind: .temporary,
                code: "simulator_log",
                message: "The simulator could not read the media."
            )
        }
        guard let found else {
            throw ProviderError(kind: .rejected, code: "media_missing", message: "The Simulator has no such media.")
        }
        return found
    }

    // MARK: Registration

    /// Tax id 000000000 fails with a tax-id mismatch; a legal name containing "timeout" fails
    /// with a timeout (and no message); anything else is registered.
    public func registerBrand(_ brand: BrandRegistration) async throws(ProviderError) -> String {
        let digits = brand.taxID.filter(\.isNumber)
        let outcome =
            digits == "000000000" ? "taxid" : (brand.legalName.lowercased().contains("timeout") ? "timeout" : "ok")
        return "BNsim-\(outcome)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    public func brandState(_ id: String, submittedAt: Date, now: Date) async throws(ProviderError) -> RegistrationState
    {
        guard now.timeIntervalSince(submittedAt) >= registrationDelay else { return .pending }
        if id.hasPrefix("BNsim-taxid-") {
            return .failed(
                reason: "tax_id_mismatch",
                message: "Brand registration failed: the Tax ID does not match the legal business name."
            )
        }
        if id.hasPrefix("BNsim-timeout-") { return .failed(reason: "timeout", message: nil) }
        return .completed(number: nil)
    }

    /// The Simulator keeps no numbers to give back.
    public func releaseNumber(numberRequest: String) async throws(ProviderError) {}

    /// A business name containing "rejected" is refused; every other verification is approved
    /// after the registration delay.
    public func verifyTollFree(numberRequest: String, _ verification: TollFreeVerification) async throws(ProviderError)
        -> String
    {
        let outcome = verification.businessName.lowercased().contains("rejected") ? "rejected" : "ok"
        return "HHsim-\(outcome)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    public func tollFreeVerificationState(_ id: String, submittedAt: Date, now: Date) async throws(ProviderError)
        -> RegistrationState
    {
        guard now.timeIntervalSince(submittedAt) >= registrationDelay else { return .pending }
        if id.hasPrefix("HHsim-rejected-") {
            return .failed(
                reason: "rejected",
                message:
                    "Toll-free verification was rejected: the use case does not show how recipients agreed to receive texts."
            )
        }
        return .completed(number: nil)
    }

    /// Area codes 000 and 999 have no numbers; others get +1 AREA 555 xxxx.
    public func requestNumber(areaCode: String, tollFree: Bool) async throws(ProviderError) -> String {
        "PNsim-\(areaCode)-\(Int.random(in: 1000...8999))"
    }

    public func numberState(_ id: String, requestedAt: Date, now: Date) async throws(ProviderError) -> RegistrationState
    {
        guard now.timeIntervalSince(requestedAt) >= registrationDelay else { return .pending }
        let parts = id.split(separator: "-")
        guard parts.count == 3, parts[1] != "000", parts[1] != "999" else {
            return .failed(
                reason: "no_numbers",
                message: "No phone numbers are available in that area code; try another."
            )
        }
        return .completed(number: "+1\(parts[1])555\(parts[2])")
    }
}

/// Sends the Simulator's status callbacks: after the delay, signed, retried with backoff, and
/// resumed from the log after a restart. At most `concurrencyMax` are in flight.
actor SimulatorCallbacks {
    let authToken: String
    let delay: Duration
    let log: any SimulatorLog
    let logger: Logger
    static let concurrencyMax = 256
    static let attemptsMax = 8

    /// Callbacks ordered by due time (stored from `head` on, so taking from the front is cheap).
    private var queue: [Pending] = []
    private var head = 0
    /// `next()` waiting for a callback to be queued.
    private var waiter: CheckedContinuation<Void, Never>?
    /// `next()` waiting for a callback in flight to finish.
    private var slotWaiter: CheckedContinuation<Void, Never>?
    private var queued: Set<String> = []

    struct Pending {
        let message: SimulatedMessage
        let due: ContinuousClock.Instant
        let attempt: Int
    }

    init(authToken: String, delay: Duration, log: any SimulatorLog, logger: Logger) {
        self.authToken = authToken
        self.delay = delay
        self.log = log
        self.logger = logger
    }

    func enqueue(_ message: SimulatedMessage, attempt: Int = 0, after wait: Duration? = nil) {
        guard attempt > 0 || !queued.contains(message.providerID) else { return }
        queued.insert(message.providerID)
        let item = Pending(message: message, due: ContinuousClock.now + (wait ?? delay), attempt: attempt)
        // Fresh callbacks share one delay, so they almost always go at the end; a retry is
        // placed by binary search.
        if let last = queue.last, last.due > item.due {
            var low = head
            var high = queue.count
            while low < high {
                let middle = (low + high) / 2
                if queue[middle].due <= item.due { low = middle + 1 } else { high = middle }
            }
            queue.insert(item, at: low)
        } else {
            queue.append(item)
        }
        waiter?.resume()
        waiter = nil
    }

    private var inFlight = 0

    /// Callbacks that are due, up to the free concurrency; waits while the queue is empty or
    /// every slot is busy (empty only when none is due yet, or on cancellation).
    private func next() async -> [Pending] {
        while !Task.isCancelled {
            if head == queue.count {
                await withCheckedContinuation { waiter = $0 }
            } else if inFlight >= SimulatorCallbacks.concurrencyMax {
                await withCheckedContinuation { slotWaiter = $0 }
            } else {
                break
            }
        }
        let limit = SimulatorCallbacks.concurrencyMax - inFlight
        guard limit > 0 else { return [] }
        let now = ContinuousClock.now
        var batch: [Pending] = []
        while head < queue.count, batch.count < limit, queue[head].due <= now {
            batch.append(queue[head])
            head += 1
        }
        if head > 4096 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        inFlight += batch.count
        return batch
    }

    private func earliestDue() -> ContinuousClock.Instant? { head < queue.count ? queue[head].due : nil }

    private func finished(_ providerID: String) { queued.remove(providerID) }

    private func settled() {
        inFlight -= 1
        slotWaiter?.resume()
        slotWaiter = nil
    }

    /// Stops waiting (on cancellation).
    private func wake() {
        waiter?.resume()
        waiter = nil
        slotWaiter?.resume()
        slotWaiter = nil
    }

    func run(using httpClient: HTTPClient) async {
        if let pending = try? await log.pendingCallbacks(limit: 100_000) {
            for message in pending { enqueue(message, attempt: 0, after: .zero) }
        }
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    let batch = await next()
                    if batch.isEmpty {
                        let due = earliestDue() ?? ContinuousClock.now
                        try? await Task.sleep(
                            until: min(max(due, ContinuousClock.now), ContinuousClock.now + .milliseconds(20)),
                            clock: .continuous
                        )
                        continue
                    }
                    for item in batch {
                        group.addTask {
                            await self.deliver(item.message, attempt: item.attempt, using: httpClient)
                            await self.settled()
                        }
                    }
                }
            }
        } onCancel: {
            // The cancellation handler cannot touch the actor's state directly; this short task
            // only resumes a waiting `next()` so the loop sees the cancellation.
            Task { await self.wake() }
        }
    }

    /// POSTs one callback; on failure schedules a retry with exponential backoff.
    func deliver(_ message: SimulatedMessage, attempt: Int, using httpClient: HTTPClient) async {
        var parameters = [
            "MessageSid": message.providerID, "SmsSid": message.providerID, "MessageStatus": message.outcome.rawValue,
            "To": message.to, "From": message.from, "NumSegments": String(message.segments),
            "AccountSid": "ACsimulator",
        ]
        if let code = message.errorCode { parameters["ErrorCode"] = code }
        let poster = SignedPoster(
            authToken: authToken,
            client: httpClient,
            timeout: .seconds(10),
            answerBytesMax: 64 * 1024
        )
        do {
            _ = try await poster.post(message.statusCallback, parameters)
            try await log.callbackDelivered(providerID: message.providerID)
            finished(message.providerID)
        } catch {
            guard attempt + 1 < SimulatorCallbacks.attemptsMax, !Task.isCancelled else {
                logger.warning(
                    "simulator callback gave up",
                    metadata: ["message": "\(message.reference)", "error": "\(error)"]
                )
                finished(message.providerID)
                return
            }
            let backoff = Duration.milliseconds(200 * (1 << attempt))
            enqueue(message, attempt: attempt + 1, after: backoff)
        }
    }
}

enum SimulatorCallbackError: Error {
    case status(Int)
    /// The server answered a call with TwiML the Simulator cannot follow there.
    case twiml
}
