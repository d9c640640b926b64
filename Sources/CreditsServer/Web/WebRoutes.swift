import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// The office portal: server-rendered pages over the same services as `/v1`. Pages work
/// without JavaScript; the script adds live counters, the estimate ticker and the purchase total.
struct WebRoutes: Sendable {
    let pages: WebPages
    let sessions: SessionService
    let credits: CreditService
    let numbers: SendingNumbers
    let registration: RegistrationService
    let contacts: ContactService
    let imports: ContactImportService
    let uploads: ContactUploadService
    let messaging: MessagingService
    let conversations: ConversationService
    let voice: VoiceService
    let webhooks: WebhookService
    let billing: BillingService
    let subscriptions: SubscriptionService
    let shortCodes: ShortCodeService
    let media: MediaService
    let autoRenew: AutoRenewService
    let administration: AdministrationService
    let auditLog: AuditLog
    let passwordResets: PasswordResetService
    /// The public opt-in page's sign-ups.
    let optIns: OptInService
    /// The public organisation sign-up, when the operator turned it on (`--allow-signup`).
    let signUps: SignUpService?
    /// Where links in mail point: the configured public URL, else where the server listens.
    let linkBase: @Sendable () -> String
    let prices: PriceList
    /// Who a request comes from (the sign-in guard counts tries per address).
    let forwarded: ForwardedHeaders
    let now: @Sendable () -> Date

    func add(to router: Router<AppRequestContext>) {
        let sessions = sessions
        router.get("/assets/:name") { _, context -> Response in
            guard let name = context.parameters.get("name"), let asset = WebPages.assets[name] else {
                throw APIError.notFound("This file")
            }
            var headers = HTTPFields()
            headers[.contentType] = asset.contentType
            headers[.cacheControl] = "public, max-age=300"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.body))
        }
        addSignIn(to: router)
        addPasswordReset(to: router)
        addOptIn(to: router)
        addSignUp(to: router)
        let portal = router.group("").add(middleware: WebSessionMiddleware(sessions: sessions))
            .add(middleware: WebRefusalMiddleware(pages: pages))
        portal.get("/") { _, _ in WebResponse.redirect("/dashboard") }
        portal.post("/sign-out") { request, _ in
            if let token = request.cookies[SessionService.cookieName]?.value { try await sessions.signOut(token) }
            var response = WebResponse.redirect("/sign-in", notice: "You are signed out.")
            response.setCookie(
                Cookie(name: SessionService.cookieName, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .lax)
            )
            return response
        }
        let routes = self
        portal.get("/dashboard") { request, context in try await routes.dashboard(request, context) }
        addSettings(to: portal)
        addBilling(to: portal)
        addPlan(to: portal)
        addMedia(to: portal)
        addMessaging(to: portal)
        addVoice(to: portal)
        addContacts(to: portal)
        addContactImport(to: portal)
        addCampaigns(to: portal)
        addCredits(to: portal)
        addLogs(to: portal)
        addStaff(to: portal)
        addOrganization(to: portal)
        addWebhooks(to: portal)
    }

    /// Sign-in. Before a session exists, the form is protected by a double-submit token: a random
    /// cookie that the form must repeat. Over https, `SecurityHeadersMiddleware` marks every cookie
    /// `Secure`, these included.
    func addSignIn(to router: Router<AppRequestContext>) {
        let (sessions, forwarded) = (sessions, forwarded)
        let signUp = signUps != nil
        router.get("/sign-in") { request, _ in
            WebRoutes.signInPage(request, error: nil, organizations: [], email: "", signUp: signUp)
        }
        router.post("/sign-in") { request, context in
            var request = request
            let form = try await WebForm.read(&request)
            guard WebRoutes.repeatsCookie(request, form, WebRoutes.signInCookie) else {
                return WebRoutes.signInPage(
                    request,
                    error: "This sign-in form is out of date. Please try again.",
                    organizations: [],
                    email: form.value("email") ?? "",
                    signUp: signUp
                )
            }
            let browserToken = request.cookies[WebRoutes.browserCookie]?.value
            do {
                switch try await sessions.signIn(
                    email: form.value("email") ?? "",
                    password: form.value("password") ?? "",
                    organization: form.trimmed("organization"),
                    address: forwarded.clientAddress(request, context: context),
                    browserToken: browserToken
                )
                {
                case .signedIn(let token, _, let browser):
                    var response = WebResponse.redirect(form.value("next") ?? "/dashboard")
                    response.setCookie(WebRoutes.browserCookie(browser))
                    response.setCookie(
                        Cookie(
                            name: SessionService.cookieName,
                            value: token,
                            maxAge: Int(SessionService.lifetime),
                            path: "/",
                            httpOnly: true,
                            sameSite: .lax
                        )
                    )
                    return response
                case .chooseOrganization(let organizations, let browser):
                    var response = WebRoutes.signInPage(
                        request,
                        error: nil,
                        organizations: organizations,
                        email: form.value("email") ?? ""
                    )
                    response.setCookie(WebRoutes.browserCookie(browser))
                    return response
                }
            } catch let error as SignInError {
                var response = WebRoutes.signInPage(
                    request,
                    error: error.message,
                    organizations: [],
                    email: form.value("email") ?? "",
                    signUp: signUp,
                    status: APIError.status(for: error.kind)
                )
                if let seconds = error.retryAfter { response.headers[.retryAfter] = String(seconds) }
                return response
            }
        }
    }

    static let signInCookie = "tc_signin"
    /// Marks a browser that has signed in before: the guard then does not hold it back when
    /// someone elsewhere is guessing the same email's password.
    static let browserCookie = "tc_browser"

    static func browserCookie(_ token: String) -> Cookie {
        Cookie(
            name: browserCookie,
            value: token,
            maxAge: Int(SignInGuard.browserMemory),
            path: "/sign-in",
            httpOnly: true,
            sameSite: .strict
        )
    }

    static func signInPage(
        _ request: Request,
        error: String?,
        organizations: [Organization],
        email: String,
        signUp: Bool = false,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let token = request.cookies[signInCookie]?.value ?? APIKeys.randomText(bytes: 32)
        var values: [String: Any] = [
            "csrf": token, "email": email,
            "next": WebResponse.safeLocation(request.uri.queryParameters.get("next") ?? "/dashboard"),
        ]
        if let error { values["error"] = error }
        if signUp { values["sign_up"] = true }
        if let flash = WebResponse.flashValues(request) { values["flash"] = flash }
        if !organizations.isEmpty {
            values["choose"] = true
            values["organizations"] = organizations.map { ["id": $0.id.rawValue, "name": $0.name] }
        }
        var response = WebPages.bare("sign-in", title: "Sign in", values: values, status: status)
        response.setCookie(
            Cookie(name: signInCookie, value: token, maxAge: 3600, path: "/sign-in", httpOnly: true, sameSite: .strict)
        )
        WebResponse.clearFlash(&response)
        return response
    }

    /// Runs a form's action: on success a 303 to the next page with a notice; when the action is
    /// refused, back to the form with the refusal's message (nothing was changed). Something the
    /// organisation does not have is not found (404), as its page would be.
    static func submit(
        _ context: AppRequestContext,
        back: String,
        _ action: (Principal, WebForm) async throws -> (location: String, notice: String)
    ) async throws -> Response {
        let (principal, form) = try context.webForm()
        do {
            let (location, notice) = try await action(principal, form)
            return WebResponse.redirect(location, notice: notice)
        } catch let error as APIError {
            return WebResponse.redirect(back, error: error.message)
        } catch let error as any DomainError where error.kind != .notFound {
            return WebResponse.redirect(back, error: error.message)
        } catch StoreError.busy {
            return WebResponse.redirect(back, error: APIError.storeBusy.message)
        }
    }

    /// The dashboard: balances, number, banners (from the layout) and 30 days of usage.
    func dashboard(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.authenticated()
        let balances = try await credits.view(principal)
        let numbers = try await numbers.numbers(of: principal.organizationID)
        let zone = principal.organization.zone
        let days = WebFormat.dayBoundaries(endingAt: now(), days: 30, in: zone)
        let usage = try await credits.usage(principal, boundaries: days)
        let mine = balances.wallets.first { $0.staffID == principal.staff.id }
        var values: [String: Any] = [
            "pool": WebFormat.account(balances.pool),
            "numbers": numbers.map { ["number": WebFormat.phone($0.number), "kind": $0.kind] },
            "chart": UsageChart(days: Array(days.dropLast()), usage: usage, zone: zone).values(),
            "can_buy": principal.can(.purchaseCredits),
        ]
        if let mine { values["wallet"] = WebFormat.account(mine) }
        return try await pages.page(
            "dashboard",
            title: "Dashboard",
            section: "dashboard",
            request: request,
            context: context,
            values: values
        )
    }
}
