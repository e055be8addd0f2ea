package polebench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * One OpenSearch node in this JVM: HTTP on 127.0.0.1 at the given port, data under the given
 * home folder. Writes "ready" to the ready file once started, and closes the node cleanly on
 * SIGTERM. Usage: PolebenchNode HOME HTTP_PORT READY_FILE, a node of its own; or
 * PolebenchNode HOME HTTP_PORT READY_FILE NODE_NAME TRANSPORT_PORT SEED_HOSTS MANAGER_NODES,
 * one node of a cluster on loopback: it finds the others at SEED_HOSTS (host:port, comma
 * separated) and the first election is among MANAGER_NODES (node names, comma separated).
 */
public final class PolebenchNode {

    /** Node's constructor that takes plugin classes is protected: open it here. */
    static final class ClasspathNode extends Node {
        ClasspathNode(Environment env, Collection<Class<? extends Plugin>> plugins) {
            super(env, plugins, true);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3 && args.length != 7) {
            System.err.println("usage: PolebenchNode HOME HTTP_PORT READY_FILE "
                + "[NODE_NAME TRANSPORT_PORT SEED_HOSTS MANAGER_NODES]");
            System.exit(2);
        }
        boolean cluster = args.length == 7;
        String name = cluster ? args[3] : "polebench-node";
        Path home = Paths.get(args[0]).toAbsolutePath();
        Files.createDirectories(home.resolve("data"));
        Files.createDirectories(home.resolve("logs"));
        Settings.Builder builder = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("node.name", name)
            .put("network.host", "127.0.0.1")
            .put("http.port", args[1])
            // a test node on a shared disk: never refuse to allocate because the disk is full-ish
            .put("cluster.routing.allocation.disk.threshold_enabled", false);
        if (cluster) {
            builder.put("cluster.name", "polebench-cluster")
                .put("transport.port", args[4])
                .putList("discovery.seed_hosts", List.of(args[5].split(",")))
                .putList("cluster.initial_cluster_manager_nodes", List.of(args[6].split(",")));
        } else {
            builder.put("cluster.name", "polebench")
                .put("discovery.type", "single-node")
                .put("transport.port", "0");
        }
        Settings settings = builder.build();
        Environment env = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> name);
        Node node = new ClasspathNode(env, List.of(Netty4Plugin.class, CommonAnalysisPlugin.class));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                e.printStackTrace();
            }
            stopped.countDown();
        }));
        node.start();
        Files.writeString(Paths.get(args[2]), "ready\n");
        stopped.await();
    }
}
