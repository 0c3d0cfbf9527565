// Schema evolution check with the Apache Avro library's own rules (org.apache.avro:avro).
//
//   java -cp <classes>:<lib>/* AvroCompat <root>
//
// <root> holds one folder per record, each with every version of that record's writer schema
// as a self-contained .avsc file (named types defined inline). For every record, every ordered
// pair of versions (a, b), a != b, must pass
// SchemaCompatibility.checkReaderWriterCompatibility(reader = a, writer = b): that is
// FULL_TRANSITIVE compatibility (each version reads data written with any other, both ways).
//
// Output, one tab-separated line per fact (read by xinfang.contract.avro_compat):
//   FINGERPRINT <record>/<file> <CRC-64-AVRO of the Parsing Canonical Form, little-endian hex> <full name>
//   INVALID     <record>/<file> <message>
//   INCOMPATIBLE <record> <reader file> <writer file> <incompatibility type> <location> <message>
//   CHECKED     <record> <versions> <pairs>
// Exit status: 0 if every file parses and every pair is compatible, 1 otherwise, 2 on bad usage.

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaNormalization;

public final class AvroCompat {
  private AvroCompat() {}

  private static String clean(Object text) {
    return String.valueOf(text).replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
  }

  private static List<Path> sorted(Stream<Path> paths) {
    try (paths) {
      return paths.sorted().collect(Collectors.toList());
    }
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: AvroCompat <root folder with <record>/<version>.avsc>");
      System.exit(2);
    }
    Path root = Paths.get(args[0]);
    boolean ok = true;
    for (Path dir : sorted(Files.list(root).filter(Files::isDirectory))) {
      String record = dir.getFileName().toString();
      Map<String, Schema> versions = new LinkedHashMap<>();
      for (Path file : sorted(Files.list(dir).filter(p -> p.toString().endsWith(".avsc")))) {
        String label = record + "/" + file.getFileName();
        try {
          Schema schema = new Schema.Parser().parse(file.toFile());
          long fingerprint = SchemaNormalization.parsingFingerprint64(schema);
          System.out.println(String.join("\t", "FINGERPRINT", label,
              String.format("%016x", Long.reverseBytes(fingerprint)), schema.getFullName()));
          versions.put(file.getFileName().toString(), schema);
        } catch (RuntimeException e) {
          ok = false;
          System.out.println(String.join("\t", "INVALID", label, clean(e.getMessage())));
        }
      }
      List<String> names = new ArrayList<>(versions.keySet());
      int pairs = 0;
      for (String readerName : names) {
        for (String writerName : names) {
          if (readerName.equals(writerName)) {
            continue;
          }
          pairs++;
          SchemaCompatibility.SchemaPairCompatibility result =
              SchemaCompatibility.checkReaderWriterCompatibility(
                  versions.get(readerName), versions.get(writerName));
          if (result.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            ok = false;
            for (SchemaCompatibility.Incompatibility inc :
                result.getResult().getIncompatibilities()) {
              System.out.println(String.join("\t", "INCOMPATIBLE", record, readerName, writerName,
                  String.valueOf(inc.getType()), clean(inc.getLocation()),
                  clean(inc.getMessage())));
            }
          }
        }
      }
      System.out.println(String.join("\t", "CHECKED", record,
          String.valueOf(names.size()), String.valueOf(pairs)));
    }
    System.exit(ok ? 0 : 1);
  }
}
