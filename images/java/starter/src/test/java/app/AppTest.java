package app;

/** Run with the JDK alone: `java -cp out app.AppTest` (see README.md). */
public final class AppTest {
  public static void main(String[] args) {
    String got = App.greeting("Ada");
    if (!got.startsWith("Hello, Ada, from Java ")) {
      throw new AssertionError("greeting(\"Ada\") = " + got);
    }
    System.out.println("AppTest passed");
  }
}
