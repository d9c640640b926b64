import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// The Organisation page (display name, billing details for the tax invoice) and the optional
/// public organisation sign-up (`textcredits serve --allow-signup`).
extension WebRoutes {
    func addOrganization(to portal: RouterGroup<AppRequestContext>) {
        let (administration, billing) = (administration, billing)
        let routes = self
        portal.get("/settings/organization") { request, context in
            try await routes.organizationPage(request, context, typed: nil, error: nil)
        }
        portal.post("/settings/organization") { request, context in
            let (principal, form) = try context.webForm()
            return try await WebRoutes.keepingInput {
                let before = principal.organization.name
                let organization = try await administration.renameOrganization(principal, to: form.value("name") ?? "")
                return WebResponse.redirect(
                    "/settings/organization",
                    notice: organization.name == before
                        ? "The organisation's name is still \(before)."
                        : "The organisation is now called \(organization.name)."
                )
            } refused: { message in
                try await routes.organizationPage(request, context, typed: form, error: message)
            }
        }
        portal.post("/settings/organization/allotment-day") { _, context in
            try await WebRoutes.submit(context, back: "/settings/organization") { principal, form in
                let day = Int(form.value("allotment_day") ?? "") ?? 0
                let organization = try await administration.setAllotmentDay(principal, to: day)
                return (
                    "/settings/organization",
                    "Allotments are added and numbers charged on day \(organization.allotmentDay) of each month."
                )
            }
        }
        portal.post("/settings/organization/billing") { request, context in
            let (principal, form) = try context.webForm()
            return try await WebRoutes.keepingInput {
                let input = try form.input(
                    BillingDetailsInput.self,
                    ["legal_name": .text, "tax_id": .text, "address": .text, "email": .text]
                )
                _ = try await billing.updateDetails(principal, input)
                return WebResponse.redirect(
                    "/settings/organization#billing",
                    notice: "Billing details saved; the next tax invoice shows them."
                )
            } refused: { message in
                try await routes.organizationPage(request, context, typed: form, error: message)
            }
        }
    }

    /// The Organisation page: each form is shown to those who may use it (the services refuse the rest).
    func organizationPage(_ request: Request, _ context: AppRequestContext, typed: WebForm?, error: String?)
        async throws -> Response
    {
        let principal = try context.authenticated()
        try WebPages.require("organization", principal)
        let organization = principal.organization
        let name = typed?.value("name") ?? organization.name
        var values: [String: Any] = [
            "name": name,
            "help_reply": KeywordReplies.render(organization.smsSettings.helpReply, account: organization.name),
            "name_limit": 200,
        ]
        if principal.can(.manageSettings) {
            values["can_rename"] = true
            values["allotment_days"] = (1...28).map {
                ["day": String($0), "selected": $0 == organization.allotmentDay]
            }
        }
        if principal.can(.purchaseCredits) {
            let profile = try await billing.view(principal)
            func field(_ key: String, _ stored: String?) -> String { typed?.value(key) ?? stored ?? "" }
            values["can_bill"] = true
            values["billing"] = [
                "legal_name": field("legal_name", profile.legalName), "tax_id": field("tax_id", profile.taxID),
                "address": field("address", profile.address), "email": field("email", profile.email),
            ]
            values["invoice_name"] = profile.legalName ?? organization.name
        }
        return try await pages.page(
            "organization",
            title: "Organisation",
            section: "organization",
            request: request,
            context: context,
            values: values,
            refusal: error
        )
    }

    // MARK: Sign-up

    static let signUpCookie = "tc_signup"

    /// `/sign-up`: answers 404, as any unknown address, unless the operator turned it on.
    func addSignUp(to router: Router<AppRequestContext>) {
        let (signUps, forwarded) = (signUps, forwarded)
        router.get("/sign-up") { request, _ in
            guard let signUps else { throw HTTPError(.notFound) }
            return WebRoutes.signUpPage(request, signUps: signUps, typed: nil, error: nil)
        }
        router.post("/sign-up") { request, context in
            guard let signUps else { throw HTTPError(.notFound) }
            var request = request
            let form = try await WebForm.read(&request)
            guard WebRoutes.repeatsCookie(request, form, WebRoutes.signUpCookie) else {
                return WebRoutes.signUpPage(
                    request,
                    signUps: signUps,
                    typed: form,
                    error: "This sign-up form is out of date. Please try again.",
                    status: .forbidden
                )
            }
            let input = SignUpInput(
                organizationName: form.value("organization_name") ?? "",
                country: form.value("country") ?? "",
                timeZone: form.value("time_zone") ?? "",
                ownerName: form.value("owner_name") ?? "",
                email: form.value("email") ?? "",
                password: form.value("password") ?? "",
                passwordAgain: form.value("password_again") ?? ""
            )
            do {
                let done = try await signUps.signUp(input, address: forwarded.clientAddress(request, context: context))
                var response = WebResponse.redirect(
                    "/dashboard",
                    notice:
                        "Welcome to TextCredits: \(done.organization.name) is ready, and you are signed in as its owner."
                )
                response.setCookie(
                    Cookie(
                        name: SessionService.cookieName,
                        value: done.token,
                        maxAge: Int(SessionService.lifetime),
                        path: "/",
                        httpOnly: true,
                        sameSite: .lax
                    )
                )
                return response
            } catch let error as any DomainError {
                var response = WebRoutes.signUpPage(
                    request,
                    signUps: signUps,
                    typed: form,
                    error: error.message,
                    status: APIError.status(for: error.kind)
                )
                if let seconds = (error as? SignUpError)?.retryAfter { response.headers[.retryAfter] = String(seconds) }
                return response
            }
        }
    }

    /// The sign-up form, with what was typed (never the passwords) and the refusal's sentence.
    static func signUpPage(
        _ request: Request,
        signUps: SignUpService,
        typed: WebForm?,
        error: String?,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let token = request.cookies[signUpCookie]?.value ?? APIKeys.randomText(bytes: 32)
        let country = typed?.value("country") ?? signUps.countries.first?.rawValue ?? ""
        let zone = typed?.value("time_zone") ?? ""
        var values: [String: Any] = [
            "csrf": token,
            "organization_name": typed?.value("organization_name") ?? "",
            "owner_name": typed?.value("owner_name") ?? "",
            "email": typed?.value("email") ?? "",
            "countries": signUps.countries.map { item -> [String: Any] in
                ["code": item.rawValue, "name": item.name, "selected": item.rawValue == country]
            },
            "zones": signUps.countries.map { item -> [String: Any] in
                [
                    "country": item.name,
                    "options": item.timeZones.map { name -> [String: Any] in
                        ["value": name, "label": WebRoutes.zoneLabel(name), "selected": name == zone]
                    },
                ]
            },
        ]
        if let error { values["error"] = error }
        var response = WebPages.bare("sign-up", title: "Sign up your organisation", values: values, status: status)
        response.setCookie(
            Cookie(name: signUpCookie, value: token, maxAge: 3600, path: "/sign-up", httpOnly: true, sameSite: .strict)
        )
        return response
    }

    /// "America/St_Johns" → "St Johns (America)".
    static func zoneLabel(_ identifier: String) -> String {
        let parts = identifier.split(separator: "/")
        guard let city = parts.last, parts.count > 1 else { return identifier }
        return "\(city.replacingOccurrences(of: "_", with: " ")) (\(parts.dropLast().joined(separator: "/")))"
    }
}
