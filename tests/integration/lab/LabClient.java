// Lab client: java.net.http.HttpClient (HTTP/2 over TLS), run as `java LabClient.java URL`.
// The test CA comes from -Djavax.net.ssl.trustStore; the name from -Djdk.net.hosts.file, so no
// resolver is asked.
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

public class LabClient {
    public static void main(String[] args) throws Exception {
        HttpClient client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_2)
                .connectTimeout(Duration.ofSeconds(10))
                .build();
        HttpRequest request = HttpRequest.newBuilder(URI.create(args[0]))
                .timeout(Duration.ofSeconds(10))
                .build();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        System.out.println("java client: HTTP " + response.statusCode() + " " + response.version()
                + ", " + response.body().length() + " chars");
        System.exit(response.statusCode() == 200 ? 0 : 1);
    }
}
