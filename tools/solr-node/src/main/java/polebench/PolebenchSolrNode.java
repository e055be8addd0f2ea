package polebench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.CountDownLatch;

import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;

/**
 * One standalone Solr node in this JVM, on Solr's own embedded Jetty (JettySolrRunner): HTTP on
 * 127.0.0.1 at the given port (0: a free one), under /solr, its cores under the given Solr home
 * (which holds solr.xml). Writes the port it listens on to the ready file once started, and stops
 * Jetty and every core cleanly on SIGTERM. Usage: PolebenchSolrNode SOLR_HOME HTTP_PORT READY_FILE
 */
public final class PolebenchSolrNode {

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: PolebenchSolrNode SOLR_HOME HTTP_PORT READY_FILE");
            System.exit(2);
        }
        Path home = Paths.get(args[0]).toAbsolutePath();
        if (!Files.isRegularFile(home.resolve("solr.xml"))) {
            System.err.println(home + ": no solr.xml");
            System.exit(2);
        }
        JettyConfig config = JettyConfig.builder()
            .setPort(Integer.parseInt(args[1]))
            .setContext("/solr")
            .stopAtShutdown(false)  // the hook below stops it, then lets main return
            .build();
        JettySolrRunner solr = new JettySolrRunner(home.toString(), config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                solr.stop();
            } catch (Exception e) {
                e.printStackTrace();
            }
            stopped.countDown();
        }));
        solr.start();
        Files.writeString(Paths.get(args[2]), solr.getLocalPort() + "\n");
        stopped.await();
    }
}
