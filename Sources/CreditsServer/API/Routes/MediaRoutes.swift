import CreditsCore
import CreditsServices
import Foundation
import Hummingbird
import NIOCore

/// `POST /v1/media`, `GET /v1/media/{id}`, and `/media/{id}` — the signed, expiring link the
/// provider fetches a picture message's media from.
struct MediaRoutes {
    let media: MediaService

    func add(to table: RouteTable, group: RouterGroup<AppRequestContext>) {
        let media = media
        table.add(.post, "/v1/media", through: group) { request, context in
            let principal = try context.authenticated()
            var request = request
            let form = try await WebForm.readMultipart(&request, forMedia: true)
            guard let file = form.file("file") else {
                throw APIError(
                    .badRequest,
                    "file_required",
                    "Send the file as multipart/form-data in a field named file.",
                    field: "file"
                )
            }
            let view = try await media.upload(principal, filename: file.fileName, bytes: Data(buffer: file.bytes))
            return try JSONOutput.response(view, status: .created)
        }
        table.add(.get, "/v1/media/{id}", through: group) { request, context in
            let principal = try context.authenticated()
            let format = try request.format(among: ["json"])
            let (view, bytes) = try await media.content(principal, try context.parameter("id"))
            if format == "json" { return try JSONOutput.response(view) }
            return MediaRoutes.file(view, bytes)
        }
    }

    /// The provider's fetch: no key, only the link's signature, until it expires.
    func addSigned(to table: RouteTable) {
        let media = media
        table.add(.get, "/media/{id}") { request, context in
            let id = try context.parameter("id")
            let query = request.uri.queryParameters
            guard
                let (view, bytes) = try await media.signedContent(
                    id,
                    expires: query.get("expires").map { String($0) },
                    signature: query.get("signature").map { String($0) }
                )
            else {
                throw APIError(.notFound, "not_found", "This media link is not valid or has expired.")
            }
            return MediaRoutes.file(view, bytes)
        }
    }

    static func file(_ view: MediaView, _ bytes: Data) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = view.contentType
        headers[.contentDisposition] = "inline; filename=\"\(view.filename)\""
        headers[.cacheControl] = "private, max-age=3600"
        headers[.eTag] = "\"\(view.id)\""
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(data: bytes)))
    }
}
