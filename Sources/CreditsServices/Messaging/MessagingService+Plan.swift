import CreditsCore
import CreditsStore
import Foundation

/// A send worked out but not yet placed: who receives what text at what price, who is skipped
/// and why, and when it may go out. `send` places exactly this plan; `preview` shows it. One
/// piece of code decides both, so the total a preview shows is the total the send reserves.
struct SendPlan {
    var channel: Channel
    /// The number it goes from.
    var from: String = ""
    /// The media every message carries (a picture message).
    var media: [String] = []
    var notBefore: Date
    /// Recipients asked for (numbers, contacts and group members, before skipping).
    var requested: Int
    var planned: [MessagingService.Planned]
    var skipped: [SkipReason: Int]
    /// Every recipient whose text could not be merged, in request order.
    var mergeProblems: [MergeProblem]

    /// A recipient left out because a merge field failed for them.
    struct MergeProblem {
        var contactID: String?
        var name: String?
        var phone: String
        var reason: String
    }

    /// The audit entries a placed send keeps for its merge-field failures: one each for the first
    /// hundred, then one summary.
    func mergeAudits(principal: Principal, at instant: Date) -> [AuditRecord] {
        var audits = mergeProblems.prefix(MessagingService.mergeAuditsMax).map { problem in
            AuditRecord(
                organization: principal.organizationID,
                actor: principal.actor,
                action: .smsMergeError,
                message: "SMS message to \(problem.who) not sent: \(problem.reason)",
                subjectType: "contact",
                subjectID: problem.contactID,
                at: instant
            )
        }
        if mergeProblems.count > MessagingService.mergeAuditsMax {
            audits.append(
                AuditRecord(
                    organization: principal.organizationID,
                    actor: principal.actor,
                    action: .smsMergeError,
                    message:
                        "\(mergeProblems.count - MessagingService.mergeAuditsMax) more recipients skipped for merge-field errors.",
                    at: instant
                )
            )
        }
        return audits
    }
}

extension SendPlan.MergeProblem {
    /// "Ana Ortiz (+14155550101)", or the number alone.
    var who: String { name.map { "\($0) (\(phone))" } ?? phone }
}

extension MessagingService {
    /// Checks a send request and works out its plan: the body, the recipients (opted-out, never
    /// opted-in, duplicate and unknown ones skipped and counted), the permission a mass text
    /// needs, when it may go out, and each recipient's text after merge fields with its price.
    func plan(_ principal: Principal, _ input: SendInput, now: Date) async throws -> SendPlan {
        let organization = principal.organization
        var input = input
        try MessageBody.validate(input.body)
        let hasFields = try !MergeFields.names(in: input.body).isEmpty
        // The price follows the sending number: a toll-free number sends at the toll-free rate.
        let sender = try await numbers.sender(principal, requested: input.from)
        let numberChannel = sender.textChannel
        var channel = input.channel ?? numberChannel
        var media = input.media ?? []
        // A picture message is one that carries media: the flat MMS price is never given to a
        // text alone (it would travel as SMS, however long).
        if channel == .mms && media.isEmpty { throw SendError.mmsWithoutMedia }
        let notBefore = try MessagingService.sendingTime(
            principal,
            sendAt: input.sendAt,
            automated: input.automated == true,
            override: input.overrideSendingHours == true,
            now: now
        )
        // Media make it a picture message, priced flat per recipient, where MMS goes at all;
        // elsewhere the organisation may have the pictures sent as links, priced as SMS (links
        // that work for 30 days from when the text goes out).
        if !media.isEmpty {
            let items = try await self.media.items(media, of: organization.id)
            if MediaLimits.countries.contains(organization.country) {
                channel = .mms
            } else if organization.smsSettings.mmsAsLink {
                var links: [String] = []
                for item in items {
                    links.append(try await self.media.recipientLink(item.id, from: max(now, notBefore)))
                }
                input.body += "\n" + links.joined(separator: "\n")
                try MessageBody.validate(input.body)
                if channel == .mms { channel = numberChannel }
                media = []
            } else {
                throw SendError.mmsNotAvailable(organization.country)
            }
        }
        let phones = input.to ?? []
        let contactIDs = input.contacts ?? []
        let groups = (input.groups ?? []).map { $0.lowercased() }
        guard !(phones.isEmpty && contactIDs.isEmpty && groups.isEmpty) else { throw SendError.recipientsRequired }
        guard phones.count + contactIDs.count <= MessagingService.recipientsMax else {
            throw SendError.tooManyRecipients(field: "to", maximum: MessagingService.recipientsMax)
        }
        let resolution = try await resolveRecipients(
            organization: organization,
            phones: phones,
            contactIDs: contactIDs,
            groups: groups
        )
        var skipped = resolution.skipped
        if resolution.requested > 1 { try principal.require(.sendMassTexts) }
        guard resolution.requested <= MessagingService.recipientsMax else {
            throw SendError.tooManyRecipients(field: "groups", maximum: MessagingService.recipientsMax)
        }

        // Price each recipient's text; a merge field that fails skips that recipient.
        let options = EstimateService.options(for: organization, channel: channel, prices: prices)
        var planned: [Planned] = []
        planned.reserveCapacity(resolution.recipients.count)
        var problems: [SendPlan.MergeProblem] = []
        let shared: PricedText? = hasFields ? nil : try Estimator.price(body: input.body, options: options)
        let template = MergeTemplate(input.body)
        for recipient in resolution.recipients {
            do {
                let values = recipient.contact?.mergeValues ?? ["phone": recipient.phone]
                let text = try shared ?? Estimator.price(body: template.render(values), options: options)
                planned.append(
                    Planned(
                        id: Identifier.make("msg_"),
                        phone: recipient.phone,
                        text: text.text,
                        segments: text.segments,
                        credits: text.credits,
                        contactID: recipient.contact?.id,
                        name: recipient.contact?.name
                    )
                )
            } catch {
                skipped[.mergeField, default: 0] += 1
                problems.append(
                    SendPlan.MergeProblem(
                        contactID: recipient.contact?.id,
                        name: recipient.contact?.name,
                        phone: recipient.phone,
                        reason: (error as? any DomainError)?.message ?? "its text could not be priced."
                    )
                )
            }
        }
        return SendPlan(
            channel: channel,
            from: sender.number,
            media: media,
            notBefore: notBefore,
            requested: resolution.requested,
            planned: planned,
            skipped: skipped,
            mergeProblems: problems
        )
    }

    /// What a send would do, without doing it: the same plan `send` places, with the credits it
    /// would reserve, whether they are there, the five most expensive texts and why, the skipped
    /// recipients by reason and the merge-field errors.
    public func preview(_ principal: Principal, _ input: SendInput) async throws -> SendPreview {
        let now = now()
        let plan = try await plan(principal, input, now: now)
        let total = plan.planned.reduce(Credits.zero) { $0 + $1.credits }
        let account = try await credits.sendingAccount(principal)
        let available = try await credits.available(account, of: principal.organizationID)
        var bands: [Credits: (segments: Int, texts: Int)] = [:]
        for item in plan.planned { bands[item.credits, default: (item.segments, 0)].texts += 1 }
        // The most expensive five, the first asked for first among equals.
        let expensive = plan.planned.enumerated()
            .sorted {
                $0.element.credits != $1.element.credits
                    ? $0.element.credits > $1.element.credits : $0.offset < $1.offset
            }
            .prefix(SendPreview.mostExpensiveMax)
            .map { SendPreview.Recipient(planned: $0.element, channel: plan.channel) }
        return SendPreview(
            recipients: plan.planned.count,
            requested: plan.requested,
            credits: total,
            available: available,
            shortfall: total > available ? total - available : nil,
            channel: plan.channel,
            notBefore: plan.notBefore,
            scheduled: plan.notBefore > now,
            skipped: plan.skipped,
            costs: bands.map { SendPreview.Band(credits: $0.key, segments: $0.value.segments, texts: $0.value.texts) }
                .sorted { $0.credits > $1.credits },
            mostExpensive: Array(expensive),
            mergeErrors: plan.mergeProblems.prefix(SendPreview.mergeErrorsMax).map {
                SendPreview.MergeError(contactID: $0.contactID, name: $0.name, phone: $0.phone, message: $0.reason)
            },
            mergeErrorCount: plan.mergeProblems.count
        )
    }
}

/// `POST /v1/messages/preview`: what the same request to `/v1/messages` would reserve and send.
public struct SendPreview: Encodable, Sendable {
    /// Texts that would be queued (one per recipient who can receive it).
    public var recipients: Int
    /// Recipients asked for, before skipping.
    public var requested: Int
    /// Credits the send would reserve: the sum of every recipient's text after merge fields.
    public var credits: Credits
    /// What the sending account (the pool, or the sender's own wallet) can spend now.
    public var available: Credits
    /// Credits missing when the send does not fit; absent when it does.
    public var shortfall: Credits?
    public var channel: Channel
    /// When the texts may go out (now, the time asked for, or when sending hours open).
    public var notBefore: Date
    /// True when the texts would wait (a later time, or outside sending hours).
    public var scheduled: Bool
    /// Recipients left out, by reason; they cost nothing.
    public var skipped: [SkipReason: Int]
    /// How many texts cost what, most expensive first.
    public var costs: [Band]
    /// The five most expensive texts, and why each costs what it does.
    public var mostExpensive: [Recipient]
    /// The first merge-field errors (at most 20), each recipient with its reason.
    public var mergeErrors: [MergeError]
    /// Every recipient skipped for a merge-field error.
    public var mergeErrorCount: Int

    static let mostExpensiveMax = 5
    static let mergeErrorsMax = 20

    /// Texts of one price.
    public struct Band: Encodable, Sendable {
        public var credits: Credits
        public var segments: Int
        public var texts: Int
    }

    /// One recipient's text as it would be sent.
    public struct Recipient: Encodable, Sendable {
        public var contactID: String?
        public var name: String?
        public var phone: String
        public var segments: Int
        public var credits: Credits
        public var encoding: String
        public var characters: Int
        /// Why it costs what it does, as a sentence.
        public var reason: String
        /// The text after merge fields, with the header and footer.
        public var text: String

        init(planned: MessagingService.Planned, channel: Channel) {
            let segmentation = Segmenter.segment(planned.text)
            contactID = planned.contactID
            name = planned.name
            phone = planned.phone
            segments = planned.segments
            credits = planned.credits
            encoding = segmentation.encoding.rawValue
            characters = segmentation.units
            text = planned.text
            reason = SendPreview.reason(segmentation, channel: channel)
        }

        enum CodingKeys: String, CodingKey {
            case contactID = "contact_id"
            case name, phone, segments, credits, encoding, characters, reason, text
        }
    }

    /// A recipient left out because a merge field failed.
    public struct MergeError: Encodable, Sendable {
        public var contactID: String?
        public var name: String?
        public var phone: String
        public var message: String

        enum CodingKeys: String, CodingKey {
            case contactID = "contact_id"
            case name, phone, message
        }
    }

    /// "3 segments: 312 GSM-7 characters after merge fields, header and footer." with the
    /// character that forced UCS-2 named.
    static func reason(_ segmentation: Segmentation, channel: Channel) -> String {
        if channel == .mms { return "A picture message costs the same whatever its length." }
        let count = segmentation.segments == 1 ? "1 segment" : "\(segmentation.segments) segments"
        var sentence =
            "\(count): \(segmentation.units) \(segmentation.encoding.rawValue) characters after merge fields, header and footer"
        if let first = segmentation.forcingCharacters.first {
            sentence += "; “\(first.character)” needs UCS-2, which fits 70 characters in a text instead of 160"
        }
        return sentence + "."
    }

    enum CodingKeys: String, CodingKey {
        case recipients, requested, credits, available, shortfall, channel, scheduled, skipped, costs
        case notBefore = "not_before"
        case mostExpensive = "most_expensive"
        case mergeErrors = "merge_errors"
        case mergeErrorCount = "merge_error_count"
    }
}
