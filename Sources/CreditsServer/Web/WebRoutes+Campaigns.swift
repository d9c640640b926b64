import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird
import ServiceLifecycle

/// Campaigns: every send, newest first, with where it stands, who sent it and its credits
/// (reserved, charged, released); a scheduled one can be canceled from the list. A campaign's
/// page lists each recipient (status, segments, credits) and follows it live through server-sent
/// events while texts are on their way.
extension WebRoutes {
    /// Campaigns one page of the list shows.
    static let campaignsPerPage = 25
    /// Recipients one page of a campaign shows.
    static let recipientsPerPage = 50

    func addCampaigns(to portal: RouterGroup<AppRequestContext>) {
        let (pages, messaging, now) = (pages, messaging, now)
        portal.get("/campaigns") { request, context in
            let principal = try context.authenticated()
            // An unreadable cursor (an old bookmark) shows the newest page.
            let cursor = (try? QueryValues.recencyCursor(request.query("cursor"))) ?? nil
            let (views, last) = try await messaging.campaigns(
                principal,
                after: cursor,
                limit: WebRoutes.campaignsPerPage
            )
            let zone = principal.organization.zone
            let instant = now()
            var values: [String: Any] = [
                "has_campaigns": !views.isEmpty,
                "campaigns": views.map { view -> [String: Any] in
                    let campaign = view.campaign
                    let skipped = campaign.skipped.values.reduce(0, +)
                    let state = WebRoutes.campaignState(view, now: instant, zone: zone)
                    return [
                        "id": campaign.id,
                        "created": WebFormat.time(campaign.createdAt, in: zone),
                        "created_by": campaign.actorName,
                        "body": campaign.body.count > 80 ? String(campaign.body.prefix(79)) + "…" : campaign.body,
                        "state": view.state, "state_label": state,
                        "recipients": WebFormat.count(campaign.accepted, "text"),
                        "skipped": skipped > 0 ? "\(skipped) skipped" : false,
                        "reserved": campaign.creditsReserved.decimalString,
                        "charged": view.creditsPosted.decimalString,
                        "released": view.creditsReleased.decimalString,
                        "cancelable": view.state == CampaignStatus.scheduled.rawValue,
                    ]
                },
            ]
            if views.count == WebRoutes.campaignsPerPage, let last {
                values["older"] = WebRoutes.link("/campaigns", [("cursor", last.text)])
            }
            if cursor != nil { values["newest"] = "/campaigns" }
            return try await pages.page(
                "campaigns",
                title: "Campaigns",
                section: "campaigns",
                request: request,
                context: context,
                values: values
            )
        }
        let routes = self
        portal.get("/campaigns/:id") { request, context in try await routes.campaignPage(request, context) }
        portal.get("/campaigns/:id/events") { request, context in try await routes.campaignEvents(request, context) }
    }

    /// One campaign: where it stands, its counts and credits, and its recipients (filtered by
    /// status, 50 a page), following the campaign live while it is in progress.
    func campaignPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.authenticated()
        let id = try context.parameter("id")
        let view = try await messaging.view(id, principal: principal)
        let zone = principal.organization.zone
        let instant = now()
        // An unknown status filter (an edited address) shows every recipient.
        let status = request.uri.queryParameters.get("status").flatMap { MessageStatus(rawValue: $0) }
        let after: String? = request.uri.queryParameters.get("after")
        let recipients = try await messaging.recipients(
            ofCampaign: id,
            principal: principal,
            status: status,
            afterID: after,
            limit: WebRoutes.recipientsPerPage
        )
        let live = view.state != "completed" && view.state != CampaignStatus.canceled.rawValue
        var values: [String: Any] = [
            "campaign": try JSONValue.of(view).template,
            "state_label": WebRoutes.campaignState(view, now: instant, zone: zone),
            "counts": MessageStatus.allCases.compactMap { status in
                view.counts[status].map {
                    ["status": status.rawValue, "label": WebRoutes.statusLabel(status), "count": String($0)]
                }
            },
            "in_progress": live,
            "pictures": try await attachments(view.campaign.media, of: principal.organizationID),
            "created": WebFormat.time(view.campaign.createdAt, in: zone),
            "statuses": MessageStatus.allCases.map {
                ["value": $0.rawValue, "label": WebRoutes.statusLabel($0), "selected": $0 == status]
            },
            "filtered": status != nil,
            "recipients": try JSONValue.of(recipients.map { RecipientLine($0, zone: zone) }).template,
            "has_recipients": !recipients.isEmpty,
        ]
        if live {
            values["events"] = WebRoutes.link(
                "/campaigns/\(id)/events",
                [("ids", recipients.map(\.message.id).joined(separator: ","))]
            )
        }
        var query = [(String, String)]()
        if let status { query.append(("status", status.rawValue)) }
        if recipients.count == WebRoutes.recipientsPerPage, let last = recipients.last {
            values["next"] = WebRoutes.link("/campaigns/\(id)", query + [("after", last.message.id)])
        }
        if after != nil { values["first"] = WebRoutes.link("/campaigns/\(id)", query) }
        return try await pages.page(
            "campaign",
            title: "Campaign",
            section: "campaigns",
            request: request,
            context: context,
            values: values
        )
    }

    /// Longest one events stream stays open; the browser then opens the next one.
    static let eventsLifetime: Duration = .seconds(300)
    /// Most recipients one stream follows: one page of them.
    static let eventsRowsMax = 50

    /// Server-sent events for a campaign's page: every second, what changed — its state, counts,
    /// credits, and the recipients shown on the page (their ids come with the request, at most
    /// one page) whose status moved — until the campaign is completed or canceled. Each look
    /// reads the campaign's totals and at most 50 messages, however big the campaign.
    func campaignEvents(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.authenticated()
        let id = try context.parameter("id")
        let messaging = messaging
        let now = now
        _ = try await messaging.view(id, principal: principal)  // another organisation's is not found
        let zone = principal.organization.zone
        let followed = (request.uri.queryParameters.get("ids") ?? "").split(separator: ",")
            .map(String.init).filter { $0.hasPrefix("msg_") && $0.utf8.count <= 64 }
            .prefix(WebRoutes.eventsRowsMax)
        let ids = Array(Set(followed))
        let body = ResponseBody { writer in
            var shown: [String: String] = [:]
            var lastCounts: [MessageStatus: Int]? = nil
            var quiet = 0
            let deadline = ContinuousClock.now + WebRoutes.eventsLifetime
            // The server shutting down ends the stream (the browser opens the next one).
            while ContinuousClock.now < deadline, !Task.isShuttingDownGracefully {
                let view = try await messaging.view(id, principal: principal)
                let rows =
                    ids.isEmpty
                    ? []
                    : try await messaging.recipients(ofCampaign: id, principal: principal, ids: ids, limit: ids.count)
                let changed = rows.filter { shown[$0.message.id] != WebRoutes.version($0.message) }
                for recipient in changed { shown[recipient.message.id] = WebRoutes.version(recipient.message) }
                let done = view.state == "completed" || view.state == CampaignStatus.canceled.rawValue
                if !changed.isEmpty || view.counts != lastCounts || done {
                    lastCounts = view.counts
                    let update = CampaignUpdate(view: view, changed: changed, done: done, now: now(), zone: zone)
                    let json = String(decoding: try JSONEncoder().encode(update), as: UTF8.self)
                    try await writer.write(ByteBuffer(string: "data: \(json)\n\n"))
                    quiet = 0
                } else {
                    quiet += 1
                    // A comment now and then keeps proxies from closing a quiet stream.
                    if quiet % 15 == 0 { try await writer.write(ByteBuffer(string: ": waiting\n\n")) }
                }
                if done { break }
                try await Task.sleep(for: .seconds(1))
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
            body: body
        )
    }

    /// What a page was last sent of a message: its status as of when.
    static func version(_ message: Message) -> String { "\(message.status.rawValue)@\(message.updatedAt.milliseconds)" }

    /// A message's status in words.
    static func statusLabel(_ status: MessageStatus) -> String {
        switch status {
        case .queued: "Queued"
        case .sending: "Sending"
        case .sent: "Sent, awaiting delivery report"
        case .delivered: "Delivered"
        case .undelivered: "Undelivered (charged)"
        case .failed: "Failed (not charged)"
        case .canceled: "Canceled (not charged)"
        case .received: "Received"
        }
    }

    /// Where a campaign stands, in words: "Scheduled for 5 Dec 2026, 09:00", "Waiting for sending
    /// hours (from 08:00)", "Sending", "Completed", "Canceled".
    static func campaignState(_ view: CampaignView, now: Date, zone: TimeZone) -> String {
        switch view.state {
        case "completed": return "Completed"
        case "canceled": return "Canceled"
        case "sending": return "Sending"
        default:
            let campaign = view.campaign
            if let sendAt = campaign.sendAt, campaign.notBefore <= sendAt {
                return "Scheduled for \(WebFormat.time(sendAt, in: zone))"
            }
            return campaign.notBefore > now
                ? "Waiting for sending hours (from \(WebFormat.time(campaign.notBefore, in: zone)))" : "Sending"
        }
    }
}

/// What a campaign's events stream sends: its state, counts and credits, and the recipients that
/// changed since the last event.
struct CampaignUpdate: Encodable {
    var state: String
    var stateLabel: String
    var counts: [Count]
    var creditsPosted: String
    var creditsReleased: String
    var changed: [RecipientLine]
    var done: Bool

    struct Count: Encodable {
        var status: String
        var label: String
        var count: Int
    }

    init(view: CampaignView, changed: [CampaignRecipient], done: Bool, now: Date, zone: TimeZone) {
        state = view.state
        stateLabel = WebRoutes.campaignState(view, now: now, zone: zone)
        counts = MessageStatus.allCases.compactMap { status in
            view.counts[status].map { Count(status: status.rawValue, label: WebRoutes.statusLabel(status), count: $0) }
        }
        creditsPosted = view.creditsPosted.decimalString
        creditsReleased = view.creditsReleased.decimalString
        self.changed = changed.map { RecipientLine($0, zone: zone) }
        self.done = done
    }

    enum CodingKeys: String, CodingKey {
        case state, counts, changed, done
        case stateLabel = "state_label"
        case creditsPosted = "credits_posted"
        case creditsReleased = "credits_released"
    }
}

/// A campaign's recipient as its page shows it (and its events update it).
struct RecipientLine: Encodable {
    var id: String
    var name: String
    var phone: String
    var status: String
    var statusLabel: String
    var segments: String
    var reserved: String
    var charged: String
    var updated: String
    var error: String?

    init(_ recipient: CampaignRecipient, zone: TimeZone) {
        let message = recipient.message
        id = message.id
        name = recipient.contactName ?? WebFormat.phone(message.to)
        phone = WebFormat.phone(message.to)
        status = message.status.rawValue
        statusLabel = WebRoutes.statusLabel(message.status)
        segments = String(message.providerSegments ?? message.segments)
        reserved = message.credits.decimalString
        charged = message.charged?.decimalString ?? "—"
        updated = WebFormat.time(message.updatedAt, in: zone)
        let reason = message.errorMessage ?? message.errorCode.map { "Error \($0)" }
        if message.reprocessedAs != nil {
            error = [reason, "Filtered by the carrier: re-sent from the toll-free number."].compactMap { $0 }
                .joined(separator: " ")
        } else if message.reprocessOf != nil {
            error = "Re-sent from the toll-free number \(WebFormat.phone(message.from)) after a carrier filtered it."
        } else {
            error = reason
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, name, phone, status, segments, reserved, charged, updated, error
        case statusLabel = "status_label"
    }
}
