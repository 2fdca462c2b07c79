import 'package:flutter/material.dart';

void main() => runApp(const StarterApp());

/// The app: one page that greets and counts the taps on its button.
class StarterApp extends StatelessWidget {
  const StarterApp({super.key});

  @override
  Widget build(BuildContext context) {
    return MaterialApp(
      title: 'Flutter starter',
      theme: ThemeData(colorSchemeSeed: Colors.blue),
      home: const CounterPage(),
    );
  }
}

class CounterPage extends StatefulWidget {
  const CounterPage({super.key});

  @override
  State<CounterPage> createState() => _CounterPageState();
}

class _CounterPageState extends State<CounterPage> {
  int _taps = 0;

  @override
  Widget build(BuildContext context) {
    return Scaffold(
      appBar: AppBar(title: const Text('Hello, world, from Flutter!')),
      body: Center(child: Text('Tapped $_taps times')),
      floatingActionButton: FloatingActionButton(
        onPressed: () => setState(() => _taps++),
        tooltip: 'Tap',
        child: const Icon(Icons.add),
      ),
    );
  }
}
