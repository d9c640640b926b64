import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// The public opt-in page, `/join/{organisation id}`: no sign-in and no session. A family member
/// types a name and mobile number, ticks the organisation's consent wording, and is texted a
/// request to reply YES (`OptInService`). Its form is protected like sign-in's, by a random
/// cookie the form must repeat (SameSite=Strict, so another site cannot post it), and the
/// service rate-limits sign-ups per client address and per number.
extension WebRoutes {
    static let joinCookie = "tc_join"

    func addOptIn(to router: Router<AppRequestContext>) {
        let (optIns, forwarded) = (optIns, forwarded)
        router.get("/join/:organization") { request, context in
            let page = try await optIns.page(try context.parameter("organization"))
            return WebRoutes.joinPage(request, page, typed: nil)
        }
        router.post("/join/:organization") { request, context in
            var request = request
            let id = try context.parameter("organization")
            let form = try await WebForm.read(&request)
            let page = try await optIns.page(id)
            func again(_ error: String, _ status: HTTPResponse.Status) -> Response {
                WebRoutes.joinPage(request, page, typed: form, error: error, status: status)
            }
            guard WebRoutes.repeatsCookie(request, form, WebRoutes.joinCookie) else {
                return again("This form is out of date. Please try again.", .forbidden)
            }
            let input = OptInPageInput(
                name: form.value("name") ?? "",
                phone: form.value("phone") ?? "",
                agreed: form.value("agree") == "yes",
                wordingDigest: form.value("wording_digest")
            )
            do {
                let (shown, _) = try await optIns.request(
                    id,
                    input,
                    address: forwarded.clientAddress(request, context: context)
                )
                return WebRoutes.joinDone(shown, phone: input.phone)
            } catch let error as any DomainError where error.kind != .notFound {
                var response = again(error.message, APIError.status(for: error.kind))
                if error.kind == .tooManyRequests {
                    response.headers[.retryAfter] = String(Int(OptInLimits.standard.addressWindow))
                }
                return response
            } catch StoreError.busy {
                return again(APIError.storeBusy.message, .serviceUnavailable)
            }
        }
    }

    /// The page with its form: the organisation's name, the wording to agree to, and what was
    /// typed when a sign-up was refused (with the sentence saying why).
    static func joinPage(
        _ request: Request,
        _ page: OptInService.Page,
        typed: WebForm?,
        error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let token = request.cookies[joinCookie]?.value ?? APIKeys.randomText(bytes: 32)
        let organization = page.organization
        var values: [String: Any] = [
            "csrf": token,
            "organization_id": organization.id.rawValue,
            "organization_name": organization.name,
            "wording": page.wording,
            "wording_digest": page.wordingDigest,
            "name": typed?.value("name") ?? "",
            "phone": typed?.value("phone") ?? "",
            "agreed": typed?.value("agree") == "yes",
            "phone_example": phoneExample(organization.country),
        ]
        if let error { values["error"] = error }
        var response = WebPages.bare(
            "join",
            title: "Get texts from \(organization.name)",
            values: values,
            status: status
        )
        // Linked to, never framed: another site must not dress the form up as something else.
        response.headers[.contentSecurityPolicy] = "frame-ancestors 'none'"
        response.setCookie(
            Cookie(
                name: joinCookie,
                value: token,
                maxAge: 3600,
                path: "/join",
                httpOnly: true,
                sameSite: .strict
            )
        )
        return response
    }

    /// After a sign-up: the same words whatever became of it (texted now, texted minutes ago,
    /// already signed up, opted out), so the page never tells anyone whether a number is on the
    /// organisation's list.
    static func joinDone(_ page: OptInService.Page, phone: String) -> Response {
        let organization = page.organization.name
        let heading = "Check your phone"
        let sentence =
            "If \(phone) can get texts from \(organization), a text asking you to reply YES is on its way "
            + "(at most one every ten minutes). Reply YES to confirm; until you do, \(organization) will not text you. "
            + "If you once texted STOP to \(organization), text START to their number from that phone instead."
        return WebPages.bare(
            "join-done",
            title: "Get texts from \(organization)",
            values: [
                "organization_name": organization, "heading": heading, "sentence": sentence,
                "organization_id": page.organization.id.rawValue,
            ]
        )
    }

    /// A mobile number as people of the organisation's country write it, for the form's hint.
    static func phoneExample(_ country: Country) -> String {
        switch country {
        case .us, .ca: "(415) 555-2671"
        case .au: "0412 345 678"
        case .nz: "021 123 4567"
        case .gb: "07700 900123"
        }
    }
}

extension WebRoutes {
    /// A confirmed opt-in as the contact page shows it: where it came from, when it was asked for
    /// and confirmed, from which address, and the exact wording shown.
    static func optInRecord(_ optIn: OptIn, zone: TimeZone) -> [String: Any] {
        var record: [String: Any] = [
            "source": optIn.source == .page ? "Opt-in page" : "JOIN keyword",
            "requested": WebFormat.time(optIn.requestedAt, in: zone),
            "confirmed": optIn.confirmedAt.map { WebFormat.time($0, in: zone) } ?? "Not yet",
            "address": optIn.source == .page ? optIn.address : "a text from \(WebFormat.phone(optIn.address))",
            "wording": optIn.wording,
        ]
        if let name = optIn.name { record["name"] = name }
        return record
    }
}
