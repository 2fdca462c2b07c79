import 'package:flutter/material.dart';
import 'package:flutter_test/flutter_test.dart';
import 'package:flutter_starter/main.dart';

void main() {
  testWidgets('greets, and counts each tap', (tester) async {
    await tester.pumpWidget(const StarterApp());
    expect(find.text('Hello, world, from Flutter!'), findsOneWidget);
    expect(find.text('Tapped 0 times'), findsOneWidget);

    await tester.tap(find.byIcon(Icons.add));
    await tester.pump();
    expect(find.text('Tapped 1 times'), findsOneWidget);
  });
}
