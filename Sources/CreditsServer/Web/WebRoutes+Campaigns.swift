import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// Campaigns: every send, newest first, with where it stands, who sent it and its credits
/// (reserved, charged, released); a scheduled one can be canceled from the list.
extension WebRoutes {
    /// Campaigns one page of the list shows.
    static let campaignsPerPage = 25

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
