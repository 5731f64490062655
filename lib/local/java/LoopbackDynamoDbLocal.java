import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * Starts DynamoDB Local (DynamoDBLocal.jar, on the class path) listening on one address and port only (port 0:
 * any free port, printed once listening), and stops it when its standard input closes.
 *
 * DynamoDBLocal.jar has no bind option: its server is a Jetty Server built with a port alone, which listens on
 * every interface. This builds the same server through DynamoDB Local's own entry point
 * (ServerRunner.createServerFromCommandLineArgs, which takes the jar's usual options but -port), sets the host
 * and port of its connector before it starts, and refuses to start when it cannot (fail closed). Telemetry is
 * never configured. The jar's own start-up banner shows its default port; the line this prints is the truth.
 *
 * Its parent holds the other end of standard input: when the parent exits for any reason (SIGKILL included),
 * the pipe closes and this process exits, so it is never orphaned.
 *
 * Usage: java -cp DynamoDBLocal.jar:DIR -Djava.library.path=DynamoDBLocal_lib LoopbackDynamoDbLocal HOST PORT [DynamoDB Local options]
 * Built with: javac --release 17 -d lib/local/java lib/local/java/LoopbackDynamoDbLocal.java
 */
public final class LoopbackDynamoDbLocal {
  private LoopbackDynamoDbLocal() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) fail("usage: LoopbackDynamoDbLocal HOST PORT [DynamoDB Local options]");
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    String[] options = new String[args.length - 2];
    System.arraycopy(args, 2, options, 0, options.length);

    Thread watchdog = new Thread(() -> {
      try {
        while (System.in.read() != -1) {
          // Whatever the parent writes is ignored; only the end of the stream matters.
        }
      } catch (Exception e) {
        // A broken pipe is an end, too.
      }
      System.exit(0);
    }, "parent-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();

    System.setProperty("org.eclipse.jetty.LEVEL", "WARN");
    System.setProperty("org.eclipse.jetty.util.log.announce", "false");
    Class<?> runner = Class.forName("software.amazon.dynamodb.services.local.main.ServerRunner");
    Object proxy = runner.getMethod("createServerFromCommandLineArgs", String[].class).invoke(null, (Object) options);
    if (proxy == null) fail("DynamoDB Local did not accept its options");
    Field serverField = proxy.getClass().getDeclaredField("server");
    serverField.setAccessible(true);
    Object server = serverField.get(proxy);
    Object[] connectors = (Object[]) server.getClass().getMethod("getConnectors").invoke(server);
    if (connectors.length != 1) fail("DynamoDB Local's server has " + connectors.length + " connectors, expected one");
    for (Object connector : connectors) {
      Method setHost = connector.getClass().getMethod("setHost", String.class);
      setHost.invoke(connector, host);
      connector.getClass().getMethod("setPort", int.class).invoke(connector, port);
      Object taken = connector.getClass().getMethod("getHost").invoke(connector);
      if (!host.equals(taken)) fail("DynamoDB Local's connector did not take host " + host);
    }
    proxy.getClass().getMethod("start").invoke(proxy);
    // The port actually bound (the parent may ask for port 0): the parent waits for this line.
    Object bound = connectors[0].getClass().getMethod("getLocalPort").invoke(connectors[0]);
    System.out.println("LoopbackDynamoDbLocal listening on " + host + ":" + bound);
  }

  private static void fail(String message) {
    System.err.println("LoopbackDynamoDbLocal: " + message);
    System.exit(2);
  }
}
