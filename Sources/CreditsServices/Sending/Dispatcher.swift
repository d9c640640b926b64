import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation
import Logging

/// Hands queued messages to the provider: claims a batch (disjoint across servers), checks
/// consent again at the last moment, sends with a per-number rate limit, and records each
/// result through settlement; failures release their holds, temporary errors retry with backoff.
public struct Dispatcher: Sendable {
    let messages: MessageStore
    let contacts: ContactStore
    let provider: any SMSProvider
    let rateLimiter: RateLimiter
    let settlement: SettlementService
    /// Signs the links the provider fetches a picture message's media from.
    let media: MediaService
    /// The server's base URL, for the status callback of each message (known once the server listens).
    let callbackBaseURL: @Sendable () -> String
    let now: @Sendable () -> Date
    let logger: Logger

    public init(
        messages: MessageStore,
        contacts: ContactStore,
        provider: any SMSProvider,
        rateLimiter: RateLimiter,
        settlement: SettlementService,
        media: MediaService,
        callbackBaseURL: @escaping @Sendable () -> String,
        now: @escaping @Sendable () -> Date,
        logger: Logger
    ) {
        self.logger = logger
        self.media = media
        self.messages = messages
        self.contacts = contacts
        self.provider = provider
        self.rateLimiter = rateLimiter
        self.settlement = settlement
        self.callbackBaseURL = callbackBaseURL
        self.now = now
    }

    /// Messages claimed per round.
    public static let batchSizeMax = 256
    /// How long a claim lasts before another dispatcher may take the message over.
    static let lease: TimeInterval = 120

    /// A number of an organisation: who must not be texted once they opted out.
    struct Recipient: Hashable {
        let organization: OrganizationID
        let phone: String
    }

    /// One round; returns how many messages it handled.
    @discardableResult
    public func runOnce(limit: Int = Dispatcher.batchSizeMax) async throws -> Int {
        let now = now()
        let claimed = try await messages.claim(
            limit: limit,
            now: now,
            leaseUntil: now.addingTimeInterval(Dispatcher.lease)
        )
        guard !claimed.isEmpty else { return 0 }
        let optedOut = try await optedOutRecipients(claimed)
        let results = await withTaskGroup(of: (String, DispatchResult).self) { group in
            var collected: [(id: String, result: DispatchResult)] = []
            var inFlight = 0
            for message in claimed {
                if inFlight >= provider.sendConcurrencyMax, let done = await group.next() {
                    collected.append(done)
                    inFlight -= 1
                }
                inFlight += 1
                group.addTask {
                    if message.holdID != nil,
                        optedOut.contains(Recipient(organization: message.organizationID, phone: message.to))
                    {
                        return (
                            message.id,
                            .failed(code: "opted_out", message: "The recipient opted out before this message was sent.")
                        )
                    }
                    return (message.id, await send(message))
                }
            }
            for await done in group { collected.append(done) }
            return collected
        }
        try await settlement.record(results)
        await logCampaigns(claimed, results)
        return claimed.count
    }

    /// Logs the campaigns a round touched (`DispatchLog`): one query a round, none for texts
    /// outside campaigns.
    func logCampaigns(_ claimed: [ClaimedMessage], _ results: [(id: String, result: DispatchResult)]) async {
        var campaignOf: [String: String] = [:]
        for message in claimed { if let campaign = message.campaignID { campaignOf[message.id] = campaign } }
        let failures = results.compactMap { id, result -> (id: String, code: String)? in
            if case .failed(let code, _) = result { (id, code) } else { nil }
        }
        await DispatchLog(noun: "campaign", items: "texts", logger: logger).report(
            groupOf: campaignOf,
            failures: failures,
            progress: messages.progress(ofCampaigns:)
        )
    }

    /// Puts messages whose dispatcher died (lease expired) back in the queue; returns how many.
    @discardableResult
    public func reclaimExpiredLeases() async throws -> Int {
        try await messages.reclaimExpiredLeases(now: now())
    }

    /// The claimed messages' recipients that opted out (paid messages only; keyword answers go anyway).
    func optedOutRecipients(_ claimed: [ClaimedMessage]) async throws -> Set<Recipient> {
        try await Dispatcher.optedOut(
            claimed.filter { $0.holdID != nil }.map { Recipient(organization: $0.organizationID, phone: $0.to) },
            contacts: contacts
        )
    }

    /// Which of these recipients opted out, read at the last moment before a text or a call goes
    /// (the call dispatcher asks the same).
    static func optedOut(_ candidates: [Recipient], contacts: ContactStore) async throws -> Set<Recipient> {
        var result = Set<Recipient>()
        for (organization, group) in Dictionary(grouping: candidates, by: \.organization) {
            for row in try await contacts.recipients(organization, phones: Array(Set(group.map(\.phone))))
            where row.consent == .optedOut {
                result.insert(Recipient(organization: organization, phone: row.phone))
            }
        }
        return result
    }

    func send(_ message: ClaimedMessage) async -> DispatchResult {
        await rateLimiter.acquire(message.from)
        var mediaURLs: [String] = []
        for id in message.media {
            guard let path = try? await media.signedPath(id) else {
                return .retry(at: now().addingTimeInterval(30), error: "the media link could not be signed")
            }
            mediaURLs.append(callbackBaseURL() + path)
        }
        let outbound = OutboundSMS(
            reference: message.id,
            from: message.from,
            to: message.to,
            body: message.body,
            channel: message.channel,
            statusCallback: "\(callbackBaseURL())/webhooks/\(provider.name)/status?message=\(message.id)",
            isRetry: message.retry || message.attempts > 1,
            mediaURLs: mediaURLs
        )
        do {
            let accepted = try await provider.send(outbound)
            return .sent(providerID: accepted.providerID, segments: accepted.segments)
        } catch {
            if error.isPermanent { return .failed(code: error.code, message: error.message) }
            switch DispatchRetry.decision(afterAttempt: message.attempts, at: now()) {
            case .retry(let at): return .retry(at: at, error: "\(error.code): \(error.message)")
            case .giveUp:
                return .failed(
                    code: "retries_exhausted",
                    message: "Not sent after \(message.attempts) attempts: \(error.message)"
                )
            }
        }
    }
}
