import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation

/// Inbound texts: carrier keywords (opt-out, opt-in with the signup message, help, and JOIN where
/// the organisation turned it on) answered with the organisation's templates at no charge,
/// everything else into the Messenger Center. An opt-in keyword (YES, START) from a number with
/// a request waiting (the opt-in page, JOIN) confirms that request: the consent keeps it.
/// Inbound is free and works at a zero balance.
public struct InboundService: Sendable {
    let database: any Database
    let numbers: NumberStore
    /// Keywords on the shared short code, and the code itself (nil: the server has none).
    let shortCodes: ShortCodeStore
    let shortCode: String?
    let organizations: OrganizationStore
    let contacts: ContactStore
    let messaging: MessagingService
    let optIns: OptInService
    let media: MediaService
    let messages: MessageStore
    /// Fetches the media of a received picture message from where the provider keeps it.
    let provider: any SMSProvider
    let now: @Sendable () -> Date

    public init(
        database: any Database,
        numbers: NumberStore,
        shortCodes: ShortCodeStore,
        shortCode: String?,
        organizations: OrganizationStore,
        contacts: ContactStore,
        messaging: MessagingService,
        optIns: OptInService,
        media: MediaService,
        messages: MessageStore,
        provider: any SMSProvider,
        now: @escaping @Sendable () -> Date
    ) {
        self.media = media
        self.messages = messages
        self.provider = provider
        self.database = database
        self.numbers = numbers
        self.shortCodes = shortCodes
        self.shortCode = shortCode
        self.organizations = organizations
        self.contacts = contacts
        self.messaging = messaging
        self.optIns = optIns
        self.now = now
    }

    /// What handling an inbound text did.
    public struct Outcome: Sendable, Equatable {
        public var organization: OrganizationID
        public var intent: String
        public var conversationID: String
        public var replies: Int
    }

    /// The media of a received picture message, fetched from the provider and kept (free, like
    /// every inbound text). A picture that cannot be fetched or is not a kind carriers send is
    /// left out; the text is kept whatever happens to its media. A repeated webhook fetches nothing.
    func receivedMedia(_ sms: InboundSMS, organization: OrganizationID) async throws -> [String] {
        guard !sms.mediaURLs.isEmpty, try await !messages.hasReceived(providerID: sms.providerID) else { return [] }
        var kept: [String] = []
        // The provider waits about 15 seconds for the answer: fetching stops after 10 (the text
        // is kept with the media fetched by then).
        let deadline = ContinuousClock.now + .seconds(10)
        for url in sms.mediaURLs.prefix(MediaLimits.itemsPerMessage) where ContinuousClock.now < deadline {
            guard let bytes = try? await provider.fetchMedia(url),
                let view = try? await media.keepReceived(Data(bytes), organization: organization)
            else { continue }
            kept.append(view.id)
        }
        return kept
    }

    /// The organisation a text is for, and what it says once a short-code keyword is read: the
    /// organisation holding the number it was sent to; on the shared short code, the one whose
    /// keyword it starts with (the keyword alone asks to join), else the one the sender last
    /// texted there by keyword (a YES or STOP that follows).
    func route(_ sms: InboundSMS, at instant: Date) async throws -> (OrganizationID, KeywordIntent?, String)? {
        if let organization = try await numbers.organization(forNumber: sms.to) { return (organization, nil, sms.body) }
        guard let shortCode, sms.to == shortCode else { return nil }
        let from = (try? PhoneNumber(parsing: sms.from, defaultCountry: .us).e164) ?? sms.from
        let last = try await shortCodes.lastOrganization(texting: from, shortCode: shortCode, at: instant)
        // A carrier keyword (STOP, START, HELP …) is for the organisation last texted there,
        // whatever word it starts with.
        if let last, Keywords.classify(sms.body).isCarrierKeyword { return (last, nil, sms.body) }
        let (keyword, rest) = ShortCodeKeyword.split(sms.body)
        if let organization = try await shortCodes.organization(forKeyword: keyword, at: instant) {
            return (organization, rest.isEmpty ? .join(keyword: keyword) : nil, rest.isEmpty ? sms.body : rest)
        }
        guard let last else { return nil }
        return (last, nil, sms.body)
    }

    /// Handles one inbound text; nil when it was sent to a number no organisation has, or is a repeat.
    @discardableResult
    public func handle(_ sms: InboundSMS) async throws -> Outcome? {
        let instant = now()
        guard let (organizationID, keywordIntent, text) = try await route(sms, at: instant),
            let organization = try await organizations.organization(organizationID)
        else { return nil }
        let from = (try? PhoneNumber(parsing: sms.from, defaultCountry: organization.country).e164) ?? sms.from
        let settings = organization.smsSettings
        let intent = keywordIntent ?? Keywords.classify(text, joinKeyword: settings.joinKeyword)
        var replies: [(String, MessageKind)] = []
        var consent: ConsentState?
        var audits: [AuditRecord] = []
        var joinRequest: OptIn?
        let contact = try await contacts.contact(phone: from, of: organizationID)
        let consentBefore = try await contacts.consent(organization: organizationID, phone: from)
        let who = contact.map { "\($0.name) (\(from))" } ?? from
        func audit(_ action: AuditAction, _ message: AuditText) {
            audits.append(
                AuditRecord(
                    organization: organizationID,
                    actor: Actor(kind: .contact, id: contact?.id, name: who),
                    action: action,
                    message: message,
                    subjectType: "contact",
                    subjectID: contact?.id,
                    at: instant
                )
            )
        }
        func reply(_ template: String) -> String { KeywordReplies.render(template, account: organization.name) }
        switch intent {
        case .optOut(let keyword):
            consent = .optedOut
            replies.append((reply(settings.optOutReply), .keywordReply))
            audit(.contactOptedOut, "\(who) opted out by text (\(keyword)).")
        case .optIn(let keyword):
            consent = .optedIn
            replies.append((reply(settings.optInReply), .keywordReply))
            audit(.contactOptedIn, "\(who) opted in by text (\(keyword)).")
        case .help:
            replies.append((reply(settings.helpReply), .keywordReply))
        case .join(let keyword):
            if consentBefore == .optedIn {
                replies.append((reply(settings.optInReply), .keywordReply))
            } else {
                let request = optIns.joinRequest(organization: organization, phone: from, at: instant)
                joinRequest = request.optIn
                replies.append((request.reply, .keywordReply))
                audit(
                    .optInRequested,
                    "\(who) asked to be texted by texting \(keyword); a text asking them to reply YES was sent."
                )
            }
        case .containsOptOutWord(let word, _):
            audit(.smsFlagged, "Text from \(who) contains \"\(word.lowercased())\" and is flagged for review.")
            if settings.replyMode == .noReply { replies.append((reply(settings.noReplyNotice), .notice)) }
        case .other:
            if settings.replyMode == .noReply { replies.append((reply(settings.noReplyNotice), .notice)) }
        }
        let flagged: Bool = if case .containsOptOutWord = intent { true } else { false }
        let kept = try await receivedMedia(sms, organization: organizationID)
        var inbound = Message(
            id: Identifier.make("msg_"),
            organizationID: organizationID,
            campaignID: nil,
            conversationID: nil,
            direction: .inbound,
            kind: .inbound,
            from: from,
            to: sms.to,
            body: sms.body,
            channel: sms.mediaURLs.isEmpty ? .sms : .mms,
            segments: 0,
            credits: .zero,
            status: .received,
            holdID: nil,
            providerID: sms.providerID,
            flagged: flagged,
            notBefore: instant,
            createdAt: instant,
            updatedAt: instant
        )
        inbound.media = kept.isEmpty ? nil : kept
        let conversation: String? = try await database.unitOfWork {
            [replies, consent, audits, joinRequest, inbound] work in
            // The provider repeats a webhook it is not sure arrived: the same text is kept once.
            guard try await !MessageStore.hasReceived(providerID: sms.providerID, in: work) else { return nil }
            let conversation = try await ConversationStore.touch(
                organization: organizationID,
                phone: from,
                number: sms.to,
                message: sms.body,
                inbound: true,
                flagged: flagged,
                at: instant,
                in: work
            )
            var received = inbound
            received.conversationID = conversation
            try await MessageStore.insert([received], detail: intent.name, in: work)
            try await WebhookOutbox.received(received, at: instant, in: work)
            var audits = audits
            if let consent {
                let confirmed =
                    consent == .optedIn
                    ? try await optIns.confirm(organization: organization, phone: from, at: instant, in: work) : nil
                if let confirmed { audits += confirmed.audits }
                try await ContactStore.recordConsent(
                    organization: organizationID,
                    phone: from,
                    state: consent,
                    source: .keyword,
                    rawText: sms.body,
                    optIn: confirmed?.optIn.id,
                    actor: "contact:\(from)",
                    at: instant,
                    in: work
                )
            }
            if let joinRequest { try await OptInStore.insert(joinRequest, in: work) }
            let answers = replies.map { text, kind in
                Message(
                    id: Identifier.make("msg_"),
                    organizationID: organizationID,
                    campaignID: nil,
                    conversationID: conversation,
                    direction: .outbound,
                    kind: kind,
                    from: sms.to,
                    to: from,
                    body: text,
                    channel: .sms,
                    segments: Segmenter.segment(text).segments,
                    credits: .zero,
                    status: .queued,
                    holdID: nil,
                    notBefore: instant,
                    createdAt: instant,
                    updatedAt: instant
                )
            }
            try await MessagingService.queueFree(answers, in: work)
            try await AuditStore.insert(audits, in: work)
            return conversation
        }
        guard let conversation else { return nil }
        // The signup message goes once: not again to a number that was already opted in.
        if consent == .optedIn && consentBefore != .optedIn {
            await messaging.sendSignup(organization: organization, phone: from, from: sms.to)
        }
        return Outcome(
            organization: organizationID,
            intent: intent.name,
            conversationID: conversation,
            replies: replies.count
        )
    }
}
