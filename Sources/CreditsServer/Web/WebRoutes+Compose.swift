import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// The composer's page: recipients (groups with who can receive now, contacts found as you type,
/// numbers), the text with its ticker, the channel, when to send, and the preview of the exact send.
extension WebRoutes {
    /// The composer, empty, or again with what was typed (a refused send or a preview).
    func composePage(
        _ request: Request,
        _ context: AppRequestContext,
        typed: WebForm? = nil,
        preview: SendPreview? = nil,
        error: String? = nil
    ) async throws -> Response {
        let principal = try context.authenticated()
        let settings = principal.organization.smsSettings
        let zone = principal.organization.zone
        let hours = settings.sendingHours
        let chosenGroups = Set(typed?.values("groups") ?? [])
        var chosenContacts: [[String: Any]] = []
        // A page shows back at most a hundred chosen contacts (a form is not a mailing list).
        for id in Set(typed?.values("contacts") ?? []).sorted().prefix(WebRoutes.chosenContactsMax) {
            // Contacts of another organisation (or deleted since) are not shown again.
            guard let contact = try? await contacts.detail(principal, id).contact else { continue }
            chosenContacts.append(WebRoutes.composeContact(contact))
        }
        let senders = WebRoutes.senders(
            try await numbers.numbers(for: principal).filter(\.maySend),
            chosen: typed?.value("from"),
            prices: prices
        )
        var values: [String: Any] = [
            "mms_price": prices.mms.decimalString,
            "friendly_bytes": String(MediaLimits.carrierFriendlyImageBytes),
            "mms_mode": MediaLimits.countries.contains(principal.organization.country)
                ? "mms" : principal.organization.smsSettings.mmsAsLink ? "link" : "none",
            "media_id": typed?.value("media") ?? "",
            "has_media": !(typed?.value("media") ?? "").isEmpty,
            "groups": try await contacts.groups(principal).map {
                [
                    "name": $0.name, "contacts": String($0.contacts), "opted_in": String($0.optedIn),
                    "skipped": $0.contacts > $0.optedIn ? String($0.contacts - $0.optedIn) : false,
                    "checked": chosenGroups.contains($0.name),
                ]
            },
            "chosen_contacts": chosenContacts,
            "may_mass_text": principal.can(.sendMassTexts),
            "may_override": principal.can(.overrideSendingHours),
            // Mustache shows a section for any string, even an empty one: no header is false.
            "header": settings.header.isEmpty ? false : settings.header,
            "footer": settings.footer.isEmpty ? false : settings.footer,
            "hours":
                "\(hours.start) to \(hours.end), \(hours.days.map { $0.rawValue.capitalized }.joined(separator: " "))",
            "inside_hours": { if case .open = hours.evaluate(at: now()) { true } else { false } }(),
            "time_zone": zone.identifier,
            "body": typed?.value("body") ?? "",
            "to": typed?.value("to") ?? "",
            "send_at": typed?.value("send_at") ?? "",
            "override_checked": typed?.value("override_sending_hours") == "true",
        ]
        if senders.count > 1 { values["from_choice"] = ["options": senders] }
        if let preview { values["preview"] = try JSONValue.of(ComposePreview(preview, zone: zone)).template }
        return try await pages.page(
            "compose",
            title: "Compose",
            section: "compose",
            request: request,
            context: context,
            values: values,
            refusal: error
        )
    }

    /// Most contacts the composer shows back as chosen after a refusal or a preview.
    static let chosenContactsMax = 100

    /// The numbers someone may send from, the default first, each with what a segment costs
    /// from it (the price follows the number).
    static func senders(_ numbers: [AssignedNumber], chosen: String?, prices: PriceList) -> [[String: Any]] {
        numbers.map { number in
            let kind = ["toll_free": "toll-free", "local": "local", "test": "test number"][number.kind] ?? number.kind
            let segment = prices.text(channel: number.textChannel, segments: 1)
            return [
                "value": number.number, "channel": number.textChannel.rawValue,
                "label":
                    "\(WebFormat.phone(number.number)) — \(kind), \(WebFormat.credits(segment)) per segment",
                "selected": chosen == number.number,
            ]
        }
    }

    /// A send request from the composer's fields: numbers one per line (or separated by commas),
    /// a later time in the organisation's local time.
    static func sendInput(_ form: WebForm, _ principal: Principal) throws -> SendInput {
        var input = try form.input(
            SendInput.self,
            [
                "body": .text, "groups": .list, "contacts": .list, "override_sending_hours": .bool,
                "from": .optionalText, "media": .list,
            ]
        )
        let phones = form.phoneList("to")
        if !phones.isEmpty { input.to = phones }
        if let later = form.trimmed("send_at") {
            input.sendAt = try WebFormat.localTime(later, zone: principal.organization.timeZone, field: "send_at")
        }
        return input
    }

    static func composeContact(_ contact: Contact) -> [String: Any] {
        [
            "id": contact.id, "name": contact.name, "phone": WebFormat.phone(contact.phone),
            "consent": contact.consent.rawValue,
        ]
    }
}

/// A contact as the composer's search lists it.
struct ComposeContact: Encodable {
    var id: String
    var name: String
    var phone: String
    var consent: String
}

/// A send preview in the words the composer shows, for the page and for its live JSON.
struct ComposePreview: Encodable {
    var recipients: Int
    var credits: String
    var available: String
    var fits: Bool
    /// "3 texts will reserve 4 credits of the 500 available."
    var summary: String
    /// "They go out now." or when they wait until.
    var when: String
    var skipped: [Skip]
    var skippedTotal: Int
    var mostExpensive: [Line]
    var mergeErrors: [Line]
    var mergeErrorCount: Int
    /// "and 180 more" when more merge errors than listed.
    var mergeErrorsMore: String?
    /// For the page's sections (a template shows a section for any number, even 0).
    var hasRecipients: Bool
    var hasSkipped: Bool
    var hasMergeErrors: Bool

    struct Skip: Encodable {
        var reason: String
        var count: Int
    }

    struct Line: Encodable {
        var who: String
        var credits: String?
        var text: String
    }

    init(_ preview: SendPreview, zone: TimeZone) {
        recipients = preview.recipients
        credits = WebFormat.credits(preview.credits)
        available = WebFormat.credits(preview.available)
        fits = preview.shortfall == nil
        let texts = WebFormat.count(preview.recipients, "text")
        if preview.recipients == 0 {
            summary = "Nobody selected can receive this text now, so nothing would be sent or reserved."
        } else if let shortfall = preview.shortfall {
            summary =
                "\(texts) need \(credits); only \(available) \(preview.available == Credits(credits: 1) ? "is" : "are") available. "
                + "Buy \(WebFormat.credits(shortfall)) more or send to fewer recipients."
        } else {
            summary = "\(texts) will reserve \(credits) of the \(available) available."
        }
        when =
            preview.scheduled
            ? "They wait until \(WebFormat.time(preview.notBefore, in: zone)) (\(zone.identifier))."
            : "They go out now."
        skipped = SkipReason.allCases.compactMap { reason in
            preview.skipped[reason].map { Skip(reason: ComposePreview.label(reason), count: $0) }
        }
        skippedTotal = preview.skipped.values.reduce(0, +)
        mostExpensive = preview.mostExpensive.map {
            Line(
                who: ComposePreview.who($0.name, $0.phone),
                credits: WebFormat.credits($0.credits),
                text: $0.reason
            )
        }
        mergeErrors = preview.mergeErrors.map {
            Line(
                who: ComposePreview.who($0.name, $0.phone),
                text: $0.message
            )
        }
        mergeErrorCount = preview.mergeErrorCount
        let unlisted = preview.mergeErrorCount - preview.mergeErrors.count
        mergeErrorsMore = unlisted > 0 ? "and \(unlisted) more" : nil
        hasRecipients = recipients > 0
        hasSkipped = skippedTotal > 0
        hasMergeErrors = mergeErrorCount > 0
    }

    /// "Ana Ortiz · (415) 555-0101", or the number alone.
    static func who(_ name: String?, _ phone: String) -> String {
        name.map { "\($0) · \(WebFormat.phone(phone))" } ?? WebFormat.phone(phone)
    }

    /// "2 skipped: 1 opted out, 1 never opted in."
    static func skippedSentence(_ skipped: [SkipReason: Int]) -> String? {
        let total = skipped.values.reduce(0, +)
        guard total > 0 else { return nil }
        let parts = SkipReason.allCases.compactMap { reason in skipped[reason].map { "\($0) \(label(reason))" } }
        return "\(total) skipped: \(parts.joined(separator: ", "))."
    }

    /// Why a recipient is left out, in words.
    static func label(_ reason: SkipReason) -> String {
        switch reason {
        case .optedOut: "opted out"
        case .notOptedIn: "never opted in"
        case .mergeField: "a merge field is empty or unknown"
        case .invalidNumber: "not a valid phone number"
        case .duplicate: "listed more than once"
        case .notFound: "contact or group not found"
        }
    }

    enum CodingKeys: String, CodingKey {
        case recipients, credits, available, fits, summary, when, skipped
        case skippedTotal = "skipped_total"
        case mostExpensive = "most_expensive"
        case mergeErrors = "merge_errors"
        case mergeErrorCount = "merge_error_count"
        case mergeErrorsMore = "merge_errors_more"
        case hasRecipients = "has_recipients"
        case hasSkipped = "has_skipped"
        case hasMergeErrors = "has_merge_errors"
    }

}
